"""Each bad input ends in one line naming it; work_dir stays as it was."""
import os
import tempfile

import pytest
import torch

from tool_runner import ROOT, run, snapshot, tiny_config, user_error

CIFAR = f'{ROOT}/configs/resnet/cifar-resnet20_1xb128_cifar10.py'
ONE_SHOT = f'{ROOT}/configs/one_shot/' \
    'one-shot-l1_cifar-resnet20_1xb64_digits.py'


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
    'misspelt evaluation metric': (
        lambda t: ['{tiny}', '--cfg-options', 'evaluation.metric=acuracy'],
        {}, "evaluation.metric 'acuracy' is not a metric of SklearnDigits "
        '(accuracy, precision, recall, f1_score, support); did you mean '
        'accuracy?'),
    'work_dir is a file': (
        lambda t: ['{tiny}', '--work-dir', '{work}/notes.txt'], {},
        'work_dir {work}/notes.txt is a file, not a folder'),
    'work_dir under a file': (
        lambda t: ['{tiny}', '--work-dir', '{work}/notes.txt/run'], {},
        'work_dir {work}/notes.txt/run: {work}/notes.txt is a file, not a '
        'folder'),
    'budget out of range': (
        lambda t: [ONE_SHOT, '--cfg-options', 'algorithm.budget.flops=1.5',
                   'algorithm.pretrained=None'],
        {}, "OneShot budget flops=1.5 must be in (0, 1] (fraction of the "
        "unpruned model's FLOPs kept)"),
}


def train_args(case, tmp_path, work_dir):
    make_args, env, message = CASES[case]
    tiny = tiny_config(tmp_path / 'tiny.py')
    args = [a.format(tiny=tiny, work=work_dir) for a in make_args(tmp_path)]
    if '--work-dir' not in args:
        args += ['--work-dir', str(work_dir)]
    return args, env, message.format(tmp=tmp_path, work=work_dir)


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


@pytest.mark.parametrize('how', ['permissions', 'sysfs'])
def test_unwritable_work_dir(how, tmp_path):
    """A work_dir that cannot be written is refused before any work. Root
    ignores permissions: then a folder under /sys, where not even root
    may create files, stands in for a read-only file system."""
    if how == 'permissions':
        if os.geteuid() == 0:
            pytest.skip('root ignores permissions')
        parent = tmp_path / 'read_only'
        parent.mkdir()
        parent.chmod(0o555)
    else:
        parent = '/sys'
        try:
            os.rmdir(tempfile.mkdtemp(dir=parent))
            pytest.skip('/sys is writable here')
        except OSError:
            pass
    work = f'{parent}/run/work'
    line = user_error('train', [tiny_config(tmp_path / 'tiny.py'),
                                '--work-dir', work])
    assert line.startswith(f'train.py: error: work_dir {work} cannot be '
                           f'written: cannot create files in {parent} (')
    assert '\n' not in line and not os.path.exists(work)


def resume_cases(tmp_path, trained):
    """(config, checkpoint, message) of checkpoints a run cannot resume."""
    cfg, work, _ = trained
    epoch_1 = work / 'epoch_1.pth'
    deeper = tiny_config(tmp_path / 'deeper.py',
                         extra='model = dict(backbone=dict(depth=32))')
    weights = tmp_path / 'weights.pth'
    torch.save({'state_dict': torch.load(epoch_1, weights_only=False)[
        'state_dict']}, weights)
    five = tmp_path / 'five_classes.pth'  # another head
    saved = torch.load(epoch_1, weights_only=False)
    saved['state_dict']['head.fc.weight'] = torch.zeros(5, 64)
    saved['state_dict']['head.fc.bias'] = torch.zeros(5)
    torch.save(saved, five)
    return {
        'another depth': (
            deeper, epoch_1, f'resume_from checkpoint {epoch_1} does not fit '
            "the model (missing keys: ['backbone.layer1.3.conv1.weight', "),
        'no epoch in meta': (
            cfg, weights, f'resume_from checkpoint {weights} has no epoch in '
            'its meta: not saved by a training run (start from its weights '
            'with --load-from)'),
        'another head': (
            cfg, five, f'resume_from checkpoint {five} does not fit the '
            'model (shapes differ: head.fc.weight (5, 64) vs (10, 64) and 1 '
            'more)'),
    }


@pytest.mark.parametrize('case', ['another depth', 'no epoch in meta',
                                  'another head'])
def test_resume_from_checkpoint_of_another_model(case, tmp_path, trained,
                                                 work_dir):
    cfg, ckpt, message = resume_cases(tmp_path, trained)[case]
    before = snapshot(work_dir)
    line = user_error('train', [cfg, '--resume-from', ckpt,
                                '--work-dir', work_dir])
    assert line.startswith(f'train.py: error: {message}')
    assert '\n' not in line
    assert snapshot(work_dir) == before


def test_dist_failure_ends_in_the_tool_line(tmp_path, work_dir, free_port):
    """As a user runs it, through torchrun in two processes: the launcher
    says what it starts, and the output ends in the tool's line, printed
    once, with no traceback (torchrun's ChildFailedError report among
    them) and none of the known-harmless warnings."""
    args, _, message = train_args('unknown type', tmp_path, work_dir)
    before = snapshot(work_dir)
    result = run(['bash', 'tools/dist_train.sh', '2'] + args,
                 env=dict(MASTER_PORT=str(free_port),
                          CUDA_VISIBLE_DEVICES='', NCCL_DEBUG='INFO'))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        'train.py: no GPU visible: 2 processes on CPU (gloo); NCCL_DEBUG '
        'has no effect']
    err = result.stderr.strip().splitlines()
    assert err[-1].startswith('train.py: error: ') and message in err[-1]
    assert err[-1] + '\n' == result.stderr  # the only line
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
    line = user_error('test', [cfg, work / 'epoch_1.pth', '--metrics',
                               'acuracy'])  # before any inference
    assert line.startswith("test.py: error: --metrics 'acuracy' is not a "
                           'metric of SklearnDigits')
