"""Export a model to ONNX, check it in the runtimes, time it.

Rebuilds whatever CHECKPOINT holds: an unpruned classifier or segmentor,
an algorithm's training checkpoint (masked or physically pruned, or
fused; ``--subnet`` applies a subnet JSON to an unpruned one), or a model
file the hooks write (``pruned_model.pth``, ``fused_model.pth``,
``deploy_model.pth``, loaded with ``weights_only=True``). Then it folds
BatchNorm (unless ``--no-fold-bn``), exports ONNX with a dynamic batch
axis, checks that each runtime computes what PyTorch computes on a batch
(max |difference| <= 1e-4 of the output's max |value|; val images when
the config has data, random ones otherwise), times the model and the
unpruned one in every backend, interleaved, and writes ``DIR/model.onnx``
and ``DIR/deploy.json`` (shapes, opset, the equality figures, latency per
backend, FLOPs and params kept). See docs/deploy.md.
"""
import os.path as osp
import sys

import mmrazor_ext  # noqa: F401  first: quiets known-harmless warnings
import torch

from mmrazor_ext.apis import build_for_inference, load_config
from mmrazor_ext.apis.cli import ToolParser, exit_on_user_error
from mmrazor_ext.apis.model_loading import with_subnet
from mmrazor_ext.deploy import (EXPORTERS, TOLERANCE, check_backends,
                                compare_outputs, export_onnx, make_runner)
from mmrazor_ext.deploy.equality import describe
from mmrazor_ext.deploy.weight_files import is_model_file
from mmrazor_ext.deploy.model_info import (check_images, count_model,
                                           deploy_json, input_images,
                                           unpruned_of)
from mmrazor_ext.engine.latency import (latency_rows, machine_load,
                                        runtime_latency)
from mmrazor_ext.utils import UserInputError, check_checkpoint, write_json


def parse_args(argv=None):
    parser = ToolParser(prog='deploy.py',
                        description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the config the checkpoint was '
                        'trained / pruned with')
    parser.add_argument('checkpoint', help='training checkpoint or model '
                        'file (pruned_model.pth, fused_model.pth, '
                        'deploy_model.pth)')
    parser.add_argument('--subnet', help='subnet JSON to apply first '
                        '(algorithm configs, unpruned checkpoints)')
    parser.add_argument('--out', default='deploy', help='output folder '
                        '(default: deploy)')
    parser.add_argument('--shape', type=int, nargs=4, metavar=('N', 'C', 'H',
                        'W'), help='the check batch (N images) and the '
                        'image size; default: a val batch of the config '
                        '(at most 8 images), else the pruner\'s input_shape')
    parser.add_argument('--backend', nargs='+',
                        default=['onnxruntime', 'torch'],
                        help='backends checked and timed: onnxruntime, '
                        'openvino (pip install openvino), torch (eager)')
    parser.add_argument('--no-fold-bn', action='store_true',
                        help='export the BatchNorms as they are')
    parser.add_argument('--exporter', choices=EXPORTERS, default='auto',
                        help='ONNX exporter (auto: TorchScript, dynamo when '
                        'that fails)')
    parser.add_argument('--threads', type=int, default=1,
                        help='threads of every backend while timing')
    parser.add_argument('--latency-time', type=float, default=0.5,
                        help='seconds of timing per model, backend and '
                        'batch size')
    return parser.parse_args(argv)


def prepare(args):
    """Every check that needs no export; the model ready to export."""
    backends = check_backends(dict.fromkeys(args.backend))
    if args.shape is not None and min(args.shape) < 1:
        raise UserInputError(f'--shape {" ".join(map(str, args.shape))}: '
                             'every size must be >= 1')
    if osp.exists(args.out) and not osp.isdir(args.out):
        raise UserInputError(f'--out {args.out} is a file, not a folder')
    cfg = load_config(args.config)
    if args.subnet:
        with_subnet(cfg, args.subnet, args.config)
    ckpt = check_checkpoint(args.checkpoint, 'the')
    model, algo = build_for_inference(cfg, args.checkpoint, args.subnet,
                                      args.config, ckpt=ckpt)
    from_file = is_model_file(ckpt)
    unpruned = unpruned_of(algo) if algo is not None else None
    if model is algo:  # an algorithm: its exported model
        model = algo.export_model()
    model = model.cpu().eval()
    images, source = input_images(cfg, args.shape)
    check_images(model, images, args.shape)
    return cfg, model, unpruned, images, source, backends, from_file


def run(args):
    cfg, model, unpruned, images, source, backends, from_file = \
        exit_on_user_error('deploy.py', prepare, args)
    shape = tuple(images.shape[1:])
    folded = 0
    if not args.no_fold_bn:  # the baseline too: like for like
        from mmrazor_ext.fusion import fold_bn
        model, pairs = fold_bn(model, shape)
        folded = len(pairs)
        if unpruned is not None:
            unpruned, _ = fold_bn(unpruned, shape)
    path = osp.join(args.out, 'model.onnx')
    export = exit_on_user_error('deploy.py', export_onnx, model, shape, path,
                                args.exporter)
    print(f'deploy.py: {path} written ({export["exporter"]} exporter, '
          f'opset {export["opset"]}, {folded} BatchNorms folded)')
    reference = make_runner('torch', model)(images)
    checks = {}
    for backend in backends:
        if backend == 'torch':
            continue
        out = make_runner(backend, model, path, args.threads)(images)
        checks[backend] = compare_outputs(reference, out)
        print(f'deploy.py: {backend} vs PyTorch on {len(images)} {source} '
              f'images: {describe(checks[backend])}')
    models = dict(exported=model)
    if unpruned is not None:
        models = dict(unpruned=unpruned, exported=model)
    sizes = sorted({1, len(images)})
    timing = runtime_latency(models, shape, sizes, backends, args.threads,
                             args.latency_time, exporter=args.exporter)
    load = machine_load()
    latency = {b: (latency_rows(t, load) if unpruned is not None else
                   {k: v['exported'] for k, v in t.items()})
               for b, t in timing['backends'].items()}
    info = deploy_json(args, export, folded, images, source, reference,
                       checks, latency, timing['threads'], load,
                       count_model(model, shape, unpruned), from_file)
    write_json(info, osp.join(args.out, 'deploy.json'))
    for backend, rows in latency.items():
        for batch, row in rows.items():
            what = (f'{row["exported"]:.2f} ms (unpruned {row["unpruned"]:.2f}'
                    f' ms, x{row["speedup"]:.2f})' if 'speedup' in row else
                    f'{row["median"]:.2f} ms')
            print(f'deploy.py: {backend} {batch}: {what}')
    print(f'deploy.py: {osp.join(args.out, "deploy.json")} written')
    bad = [b for b, c in checks.items() if not c['equal']]
    if bad:
        sys.exit(f'deploy.py: error: {", ".join(bad)} differs from PyTorch '
                 f'by more than {TOLERANCE:.0e} of the output\'s max '
                 f'({describe(checks[bad[0]])})')
    return info


def main(argv=None):
    with torch.no_grad():
        return run(parse_args(argv))


if __name__ == '__main__':
    main()
