"""Settings that used to end in a traceback, late or after work: each is
one line before any work, and the work dir stays as it was."""
import gc
import sys

import pytest

from tool_runner import (console, run_main, snapshot, tiny_config,
                         user_error)


@pytest.fixture
def work_dir(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'notes.txt').write_text('keep me')
    return work


def tiny_one_shot(path, pretrained, extra=''):
    """OneShot (CDP, a feature metric) on the 16x16 digits from
    ``pretrained``."""
    return tiny_config(path, extra=f"""
algorithm = dict(
    type='OneShot', pretrained={str(pretrained)!r},
    architecture=dict(type='MMClsArchitecture', model={{{{_base_.model}}}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 16, 16)),
    metric=dict(type='CDPMetric', num_classes=10), num_batches=2,
    budget=dict(flops=0.5), recalibrate_bn=1)
custom_hooks = [dict(type='OneShotHook', latency_time=0.05)]
{extra}""")


CASES = {
    'max_iters beside max_epochs': (
        ['runner.max_iters=5'],
        'runner sets both max_epochs=1 and max_iters=5'),
    'topk above the classes': (
        ['evaluation.metric_options.topk=(1,20)'],
        'evaluation.metric_options topk=(1, 20): each k must be an integer '
        '>= 1 and at most 10, the classes the model scores'),
    'unknown algorithm': (
        ['algorithm.type=OneShott'],
        'OneShott is not in the models registry; did you mean OneShot?'),
    'unknown metric': (
        ['algorithm.metric.type=L1Metricc'],
        "unknown metric 'L1Metricc'; did you mean L1Metric? registered "
        'metrics: '),
    'no scoring batch': (
        ['algorithm.num_batches=0'],
        'OneShot num_batches=0 must be an integer >= 1'),
    'negative recalibration': (
        ['algorithm.recalibrate_bn=-1'],
        'OneShot recalibrate_bn=-1 must be an integer >= 0'),
}


@pytest.mark.parametrize('case', CASES)
def test_bad_setting_is_one_line(case, tmp_path, work_dir, trained):
    options, message = CASES[case]
    cfg = tiny_one_shot(tmp_path / 'one_shot.py', trained[1] / 'epoch_1.pth')
    before = snapshot(work_dir)
    line = user_error('train', [cfg, '--work-dir', work_dir,
                                '--cfg-options', *options])
    assert line.startswith('train.py: error: ') and '\n' not in line
    assert message in line
    assert snapshot(work_dir) == before  # no subnet.json, no log


def test_config_syntax_error(tmp_path, monkeypatch):
    """mmcv's temporary copy of the config is cleaned up without an
    "Exception ignored ... FileNotFoundError" traceback."""
    bad = tmp_path / 'bad.py'
    text = open(tiny_config(tmp_path / 'tiny.py')).read() + \
        'runner = dict(max_epochs=1\n'
    bad.write_text(text)
    ignored = []
    monkeypatch.setattr(sys, 'unraisablehook', ignored.append)
    line = user_error('train', [bad, '--work-dir', tmp_path / 'w'])
    gc.collect()
    assert line == f'train.py: error: cannot read config {bad}: There are ' \
        f"syntax errors in config file {bad}: '(' was never closed " \
        f'(<unknown>, line {len(text.splitlines())})'
    assert ignored == []


def test_cfg_option_without_value(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_main('train', [tiny_config(tmp_path / 'tiny.py'),
                           '--cfg-options', 'runner.max_epochs'])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        "train.py: error: --cfg-options 'runner.max_epochs': expected "
        'key=value (e.g. runner.max_epochs=VALUE) (see train.py --help)\n')


def test_unreachable_pretrained_url_before_tracing(tmp_path, work_dir,
                                                   free_port, monkeypatch):
    """A zoo config's URL is tried before the pruner traces the model
    (66-84 s for FCN-R50 at 512x1024)."""
    from mmrazor_ext.pruners import ChannelPruner

    def no_trace(*args, **kwargs):
        raise AssertionError('traced before the checkpoint was checked')
    monkeypatch.setattr(ChannelPruner, 'prepare_from_supernet', no_trace)
    url = f'http://127.0.0.1:{free_port}/zoo/resnet20.pth'
    line = user_error('train', [tiny_one_shot(tmp_path / 'zoo.py', url),
                                '--work-dir', work_dir])
    assert line.startswith(f'train.py: error: pretrained checkpoint {url} '
                           'cannot be downloaded (')


def test_resume_with_nothing_left(tmp_path, trained, work_dir):
    cfg, work, _ = trained
    line = user_error('train', [cfg, '--work-dir', work_dir,
                                '--resume-from', work / 'epoch_1.pth'])
    assert line == (f'train.py: error: resume_from checkpoint '
                    f'{work}/epoch_1.pth is at epoch 1 and runner.max_epochs '
                    'is 1: nothing left to train (raise runner.max_epochs to '
                    'train on)')


def test_resume_mismatch_before_any_console_line(tmp_path, trained):
    """The mismatch is the first thing printed: not after the ~690 lines
    of mmcv's weight-initialisation record."""
    deeper = tiny_config(tmp_path / 'deeper.py',
                         extra='model = dict(backbone=dict(depth=32))')
    with console() as text:
        line = user_error('train', [deeper, '--work-dir', tmp_path / 'w',
                                    '--resume-from',
                                    trained[1] / 'epoch_1.pth'])
    assert 'does not fit the model' in line
    assert text.getvalue() == ''
    assert not (tmp_path / 'w').exists()


def test_test_tool_topk(trained, tmp_path):
    """``--metric-options topk=1,5``, the form of ``--help``, works; a k
    above the classes is one line before any inference."""
    cfg, work, _ = trained
    ckpt = work / 'epoch_1.pth'
    log = run_main('test', [cfg, ckpt, '--metric-options', 'topk=1,5'])
    assert 'accuracy_top-1: ' in log and 'accuracy_top-5: ' in log
    with console() as text:
        line = user_error('test', [cfg, ckpt, '--metric-options',
                                   'topk=(1,20)'])
    assert line == ('test.py: error: --metric-options topk=(1, 20): each k '
                    'must be an integer >= 1 and at most 10, the classes the '
                    'model scores')
    assert text.getvalue() == ''
