"""Each bad input ends in one line naming it; work_dir stays as it was."""
import hashlib
import os

import pytest

from tool_runner import ROOT, run, tiny_config

CIFAR = f'{ROOT}/configs/resnet/cifar-resnet20_1xb128_cifar10.py'


def snapshot(folder):
    return {name: hashlib.md5((folder / name).read_bytes()).hexdigest()
            for name in os.listdir(folder)}


@pytest.fixture
def work_dir(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'epoch_3.pth').write_bytes(b'an earlier run')
    (work / 'latest.pth').write_bytes(b'an earlier run')
    (work / 'notes.txt').write_text('keep me')
    return work


def corrupt(tmp_path):
    path = tmp_path / 'corrupt.pth'
    path.write_bytes(b'\x80\x02}q\x00garbage')
    return str(path)


CASES = {
    'missing data path': (
        lambda t: [CIFAR], {'CIFAR10_ROOT': '/no/such/cifar'},
        'data path not found: data.train.data_prefix=/no/such/cifar'),
    'unknown type': (
        lambda t: ['{tiny}', '--cfg-options',
                   'model.backbone.type=CifarResNett'], {},
        'CifarResNett is not in the'),
    'mistyped key': (
        lambda t: ['{tiny}', '--cfg-options', 'optimizer.lrr=0.1'], {},
        "key 'optimizer.lrr' not in config"),
    'missing checkpoint': (
        lambda t: ['{tiny}', '--resume-from', str(t / 'nope.pth')], {},
        'resume_from checkpoint {tmp}/nope.pth not found'),
    'corrupt checkpoint': (
        lambda t: ['{tiny}', '--load-from', corrupt(t)], {},
        'load_from checkpoint {tmp}/corrupt.pth is corrupt'),
}


@pytest.mark.parametrize('case', CASES)
def test_train_bad_input(case, tmp_path, work_dir):
    make_args, env, message = CASES[case]
    tiny = tiny_config(tmp_path / 'tiny.py')
    args = [a.format(tiny=tiny) for a in make_args(tmp_path)]
    before = snapshot(work_dir)
    result = run(['tools/train.py'] + args + ['--work-dir', str(work_dir)],
                 env=env)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('train.py: error: ')
    assert message.format(tmp=tmp_path) in last
    assert 'Traceback' not in result.stderr
    assert snapshot(work_dir) == before


def test_test_tool_bad_checkpoints(tmp_path, trained):
    cfg, work, _ = trained
    for ckpt, message in [(str(tmp_path / 'nope.pth'), 'not found'),
                          (corrupt(tmp_path), 'is corrupt')]:
        result = run(['tools/test.py', cfg, ckpt])
        last = result.stderr.strip().splitlines()[-1]
        assert result.returncode != 0
        assert last == f'test.py: error: test checkpoint {ckpt} {message}' \
            + ('' if message == 'not found' else
               ' or not a torch checkpoint (UnpicklingError)')
    other = tiny_config(tmp_path / 'deeper.py',
                        extra="model = dict(backbone=dict(depth=32))")
    result = run(['tools/test.py', other, str(work / 'epoch_1.pth')])
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f'test.py: error: checkpoint {work}/epoch_1.pth '
                           f'does not fit the model')
