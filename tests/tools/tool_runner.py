"""Run the tools as a user would: in this process through their
``main(argv)``, or as a command from the repository root."""
import contextlib
import functools
import hashlib
import importlib.util
import io
import logging
import os
import os.path as osp
import subprocess
import sys

import mmcv
import pytest
import torch

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
DIGITS20 = osp.join(ROOT, 'configs', 'resnet',
                    'cifar-resnet20_1xb64_digits.py')


def tiny_config(path, epochs=1, extra=''):
    """ResNet-20 on the digits at 16x16, ``epochs`` short epochs,
    RankStateHook."""
    with open(path, 'w') as f:
        f.write(f"""_base_ = [{DIGITS20!r}]
custom_imports = dict(imports=['mmrazor_ext', 'rank_state_hook'])
custom_hooks = [dict(type='RankStateHook')]
runner = dict(max_epochs={epochs})
lr_config = dict(warmup_iters=5)
log_config = dict(interval=4)
# 16x16 images: a quarter of the compute of the 32x32 default
data = dict(samples_per_gpu=128,
            train=dict(img_size=16, pipeline=[
                dict(type='RandomCrop', size=16, padding=1),
                dict(type='Normalize', mean=[80.0] * 3, std=[110.0] * 3,
                     to_rgb=False),
                dict(type='ImageToTensor', keys=['img']),
                dict(type='ToTensor', keys=['gt_label']),
                dict(type='Collect', keys=['img', 'gt_label'])]),
            val=dict(img_size=16), test=dict(img_size=16))
{extra}""")
    return str(path)


@functools.lru_cache(maxsize=None)
def load_tool(name):
    """``tools/{name}.py`` as a module (its ``main``, ``setup``, ...)."""
    spec = importlib.util.spec_from_file_location(
        f'{name}_tool', osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Messages(logging.Handler):

    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def run_main(tool, argv):
    """``tools/{tool}.py``'s ``main(argv)`` in this process.

    Returns what a user would read: the messages of mmcls's logger (the
    runner's included) and the evaluation's progress bar. A user error
    raises ``SystemExit`` with the one-line message.
    """
    main = load_tool(tool).main
    handler, bars = _Messages(), io.StringIO()
    logger = logging.getLogger('mmcls')  # get_root_logger's
    logger.addHandler(handler)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as run() sets OMP_NUM_THREADS
    try:
        with pytest.MonkeyPatch.context() as patch:
            # ProgressBar's default file is bound to sys.stdout at import
            patch.setattr(mmcv, 'ProgressBar', functools.partial(
                mmcv.ProgressBar, file=bars))
            main([str(a) for a in argv])
    finally:
        logger.removeHandler(handler)
        torch.set_num_threads(threads)
    return '\n'.join(handler.lines + [bars.getvalue()])


def user_error(tool, argv):
    """The one line ``tools/{tool}.py`` exits with."""
    with pytest.raises(SystemExit) as exit_:
        run_main(tool, argv)
    return str(exit_.value.code)


def snapshot(folder):
    """``{file name: md5}`` of a folder, to compare before and after."""
    return {name: hashlib.md5((folder / name).read_bytes()).hexdigest()
            for name in os.listdir(folder) if (folder / name).is_file()}


@contextlib.contextmanager
def console():
    """What mmcls's and mmcv's loggers print on the console (their
    stream handlers, whichever stream they were bound to) while the block
    runs: a ``StringIO``. Loggers not set up yet are set up as mmcv's
    ``get_logger`` does."""
    from mmcv.utils import get_logger
    text, swapped = io.StringIO(), []
    for name in ('mmcls', 'mmcv'):
        for handler in get_logger(name).handlers:
            if type(handler) is logging.StreamHandler:
                swapped.append((handler, handler.setStream(text)))
    try:
        yield text
    finally:
        for handler, stream in swapped:
            handler.setStream(stream)


def initial_weights(config, seed):
    """The state dict ``tools/train.py --seed`` starts training from."""
    train = load_tool('train')
    args = train.parse_args([config, '--seed', str(seed)])
    model = train.setup(args)[3]
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def run(args, timeout=300, env=None):
    """Run a command from the repository root with the test's Python."""
    full_env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1')
    full_env['PYTHONPATH'] = os.pathsep.join(
        [osp.dirname(__file__), ROOT, full_env.get('PYTHONPATH', '')])
    full_env.update(env or {})
    if args[0].endswith('.py'):
        args = [sys.executable] + args
    return subprocess.run(args, cwd=ROOT, env=full_env, timeout=timeout,
                          capture_output=True, text=True)


def stub_python(path, calls):
    """An executable at ``path`` that records each call (working
    directory and arguments, NUL-separated) as one file in ``calls``."""
    calls.mkdir()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\nn=$(ls "{calls}" | wc -l)\n'
                    f'printf "%s\\0" "$PWD" "$@" > "{calls}/$n"\n')
    path.chmod(0o755)


def recorded(calls):
    return [(calls / str(i)).read_text().split('\0')[:-1]
            for i in range(len(os.listdir(calls)))]
