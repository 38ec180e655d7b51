"""Run the tools as a user would, from the repository root."""
import os
import os.path as osp
import subprocess
import sys

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
DIGITS20 = osp.join(ROOT, 'configs', 'resnet',
                    'cifar-resnet20_1xb64_digits.py')


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
