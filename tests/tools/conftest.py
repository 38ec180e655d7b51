import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
DIGITS20 = osp.join(ROOT, 'configs', 'resnet', 'cifar-resnet20_1xb64_digits.py')


def tiny_config(path, epochs=1, extra=''):
    """ResNet-20 on the digits, ``epochs`` short epochs, RankStateHook."""
    with open(path, 'w') as f:
        f.write(f"""_base_ = [{DIGITS20!r}]
custom_imports = dict(imports=['mmrazor_ext', 'rank_state_hook'])
custom_hooks = [dict(type='RankStateHook')]
runner = dict(max_epochs={epochs})
lr_config = dict(warmup_iters=5)
log_config = dict(interval=4)
data = dict(samples_per_gpu=128)
{extra}""")
    return str(path)


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


@pytest.fixture(scope='session')
def trained(tmp_path_factory):
    """One single-process run of 1 epoch: (config, work_dir, result)."""
    tmp = tmp_path_factory.mktemp('trained')
    cfg = tiny_config(tmp / 'tiny.py')
    work = tmp / 'work'
    result = run(['tools/train.py', cfg, '--work-dir', str(work),
                  '--seed', '0'])
    assert result.returncode == 0, result.stderr[-3000:]
    return cfg, work, result
