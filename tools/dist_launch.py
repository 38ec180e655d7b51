"""torchrun for the tools (``tools/dist_launch.sh`` runs it): says what it
starts, and a failure ends in the tool's own one-line message.

torchrun itself prints a ``ChildFailedError`` traceback of about 35 lines
after any process that exits non-zero, also after a tool's one-line
``train.py: error: ...``. Here torchrun's launch runs without its error
report and with its logging off: a tool's message is the last line, and a
process killed by a signal (which prints nothing itself) gets one line.

    python tools/dist_launch.py NPROC [torchrun options] TOOL.py [TOOL args]
"""
import logging
import os
import sys


def describe(nproc: str) -> str:
    """What the launch runs on: GPUs (NCCL) or, without any, the CPU."""
    import torch
    gpus = torch.cuda.device_count()
    procs = f'{nproc} process' + ('' if nproc == '1' else 'es')
    if gpus:
        shown = os.environ.get('CUDA_VISIBLE_DEVICES') or \
            ','.join(map(str, range(gpus)))
        return f'{procs} on GPUs {shown} (NCCL)'
    note = '; NCCL_DEBUG has no effect' if os.environ.get('NCCL_DEBUG') \
        else ''
    return f'no GPU visible: {procs} on CPU (gloo){note}'


def main(argv):
    from torch.distributed.elastic.multiprocessing.errors import \
        ChildFailedError
    from torch.distributed.run import parse_args, run

    args = parse_args(argv)
    tool = os.path.basename(args.training_script)
    if os.environ.get('NODE_RANK', '0') == '0':
        print(f'{tool}: {describe(str(args.nproc_per_node))}', flush=True)
    logging.disable(logging.CRITICAL)  # torchrun's own reports
    try:
        run(args)
    except ChildFailedError as e:
        rank, failure = e.get_first_failure()
        if failure.exitcode < 0:  # a signal: the process said nothing
            sys.exit(f'{tool}: rank {rank} (pid {failure.pid}) was killed '
                     f'by {failure.signal_name()}')
        sys.exit(failure.exitcode)  # its message is already printed


if __name__ == '__main__':
    main(sys.argv[1:])
