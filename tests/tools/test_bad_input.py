"""Each bad input ends in one line naming it; work_dir stays as it was."""
import hashlib
import os

import pytest

from tool_runner import ROOT, run, run_main, tiny_config

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


def train_args(case, tmp_path, work_dir):
    make_args, env, message = CASES[case]
    tiny = tiny_config(tmp_path / 'tiny.py')
    args = [a.format(tiny=tiny) for a in make_args(tmp_path)]
    return args + ['--work-dir', str(work_dir)], env, \
        message.format(tmp=tmp_path)


def user_error(tool, argv):
    """The one line ``tools/{tool}.py`` exits with."""
    with pytest.raises(SystemExit) as exit_:
        run_main(tool, argv)
    return str(exit_.value.code)


@pytest.mark.parametrize('case', CASES)
def test_train_bad_input(case, tmp_path, work_dir, monkeypatch):
    args, env, message = train_args(case, tmp_path, work_dir)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    before = snapshot(work_dir)
    line = user_error('train', args)
    assert line.startswith('train.py: error: ') and '\n' not in line
    assert message in line
    assert snapshot(work_dir) == before


def test_bad_input_prints_one_line_no_traceback(tmp_path, work_dir):
    """As a user runs it: stderr ends in the line, with no traceback."""
    args, _, message = train_args('unknown type', tmp_path, work_dir)
    before = snapshot(work_dir)
    result = run(['tools/train.py'] + args)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('train.py: error: ') and message in last
    assert 'Traceback' not in result.stderr
    assert snapshot(work_dir) == before


def test_test_tool_bad_checkpoints(tmp_path, trained):
    cfg, work, _ = trained
    for ckpt, message in [(str(tmp_path / 'nope.pth'), 'not found'),
                          (corrupt(tmp_path), 'is corrupt')]:
        line = user_error('test', [cfg, ckpt])
        assert line == f'test.py: error: test checkpoint {ckpt} {message}' \
            + ('' if message == 'not found' else
               ' or not a torch checkpoint (UnpicklingError)')
    other = tiny_config(tmp_path / 'deeper.py',
                        extra="model = dict(backbone=dict(depth=32))")
    line = user_error('test', [other, work / 'epoch_1.pth'])
    assert line.startswith(f'test.py: error: checkpoint {work}/epoch_1.pth '
                           f'does not fit the model')
