"""tools/train.py and tools/test.py, run as a user would, in this process
through their ``main(argv)``. (The dist scripts: 2-process training and
evaluation in tests/algorithms/test_one_shot_dist.py.)"""
import json
import os
import random

import numpy as np
import torch

from tool_runner import initial_weights, run_main, tiny_config

CONV = 'backbone.layer1.0.conv1.weight'


def load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_seed_fixes_initial_weights(tmp_path):
    cfg = tiny_config(tmp_path / 'tiny.py')
    first = initial_weights(cfg, seed=0)
    # whatever ran before must not matter once the seed is set
    torch.rand(1000), random.random(), np.random.rand(10)
    assert_same(initial_weights(cfg, seed=0), first)
    other = initial_weights(cfg, seed=1)
    assert not torch.equal(other[CONV], first[CONV])


def test_single_process_run(trained):
    cfg, work, log = trained
    ckpt = load(work / 'epoch_1.pth')
    assert ckpt['meta']['epoch'] == 1
    assert ckpt['meta']['seed'] == 0
    assert ckpt['meta']['CLASSES'] == [str(i) for i in range(10)]
    assert f'train.py: cpu, 1 process; work_dir {work}; log {work}/' in log
    assert 'Set random seed to 0, deterministic: False' in log
    assert 'accuracy_top-1' in log
    assert '360/360' in log  # the progress bar of the evaluation
    # the config used is kept beside the checkpoints
    assert any(f.endswith('_tiny.py') for f in os.listdir(work))
    # it started from the weights of seed 0, and trained
    start = initial_weights(cfg, seed=0)
    assert_same(load(work / 'rank0_initial.pth')['state'], start)
    final = load(work / 'rank0_final.pth')['state']
    assert not torch.equal(final[CONV], start[CONV])


def test_console_shows_a_few_lines(trained):
    """The environment, the config, the hook order and mmcv's weight
    initialisation go to the log file, not to the console; the evaluation's
    progress bar ends its line."""
    cfg, work, log = trained
    shown = open(os.path.join(os.path.dirname(cfg), 'console.txt')).read()
    log_file = next(work / f for f in os.listdir(work)
                    if f.endswith('.log'))
    assert f'train.py: cpu, 1 process; work_dir {work}; log {log_file}' \
        in shown
    assert 'train.py: mmrazor_ext ' in shown and ', mmcls 0.25.0' in shown
    written = log_file.read_text()
    for kept_out in ('Environment info', 'Config:', 'Hooks will be executed',
                     'initialize CifarResNet', 'KaimingInit'):
        assert kept_out not in shown and kept_out in written, kept_out
    assert log.endswith('360/360' + log.rsplit('360/360', 1)[1]) and \
        log.endswith('\n')  # the bar's line is ended


def test_second_run_into_a_busy_work_dir(trained, tmp_path):
    """While a run holds the work dir, another is refused with one line
    naming it, and the first run's files stay as they were."""
    import shutil
    import socket
    from tool_runner import snapshot, user_error

    from mmrazor_ext.core import WorkDirLock
    cfg, work, _ = trained
    busy = tmp_path / 'busy'
    shutil.copytree(work, busy)
    before = snapshot(busy)
    with WorkDirLock(str(busy)):  # the first run, still going
        line = user_error('train', [cfg, '--work-dir', busy, '--seed', '1'])
        assert line.startswith(
            f'train.py: error: work_dir {busy} is in use by another run (PID '
            f'{os.getpid()} on host {socket.gethostname()}, started ')
        assert line.endswith('); wait for it, or give this run another '
                             '--work-dir')
        assert snapshot(busy) == {**before, '.lock': snapshot(busy)['.lock']}
    assert snapshot(busy) == before


def test_resume_continues_at_next_epoch(trained, tmp_path):
    cfg, work, _ = trained
    # weights_only=True, torch's default since 2.6, reads our checkpoints
    torch.load(work / 'epoch_1.pth', map_location='cpu', weights_only=True)
    resume = tiny_config(tmp_path / 'resume.py', epochs=2, extra="""
custom_imports = dict(
    imports=['mmrazor_ext', 'rank_state_hook', 'optimizer_state_hook'])
custom_hooks = [dict(type='RankStateHook'), dict(type='OptimizerStateHook')]
""")
    log = run_main('train', [resume, '--work-dir', tmp_path,
                             '--resume-from', work / 'epoch_1.pth'])
    assert 'resumed epoch 1, iter 12' in log
    assert 'Epoch [1][' not in log and 'Epoch [2][12/12]' in log
    assert not (tmp_path / 'epoch_1.pth').exists()
    assert load(tmp_path / 'epoch_2.pth')['meta']['epoch'] == 2
    # the run started from the saved weights and optimizer state
    saved = load(work / 'epoch_1.pth')
    start = load(tmp_path / 'rank0_initial.pth')['state']
    assert_same(start, saved['state_dict'])
    optimizer = load(tmp_path / 'optimizer_at_start.pth')['state']
    assert len(saved['optimizer']['state']) > 0
    assert optimizer.keys() == saved['optimizer']['state'].keys()
    for index, state in saved['optimizer']['state'].items():
        assert_same(optimizer[index], state)


def test_load_from_starts_at_epoch_one(trained, tmp_path):
    cfg, work, _ = trained
    log = run_main('train', [cfg, '--work-dir', tmp_path,
                             '--load-from', work / 'epoch_1.pth',
                             '--cfg-options', 'optimizer.lr=0'])
    assert 'load checkpoint from' in log and 'Epoch [1][12/12]' in log
    # lr 0 (warm-up included): the loaded weights are trained no further
    old = load(work / 'epoch_1.pth')['state_dict']
    new = load(tmp_path / 'epoch_1.pth')['state_dict']
    conv = 'backbone.layer3.2.conv2.weight'
    assert torch.equal(old[conv], new[conv])


def test_test_tool_accuracy_and_out(trained, tmp_path):
    cfg, work, train_log = trained
    out = tmp_path / 'res.json'
    log = run_main('test', [cfg, work / 'epoch_1.pth', '--metrics',
                            'accuracy', 'f1_score', '--out', out])
    assert '360/360' in log
    saved = json.loads(out.read_text())
    assert len(saved['pred_label']) == 360
    assert {'accuracy_top-1', 'f1_score'} <= set(saved['metrics'])
    # same number as the evaluation at the end of training
    top1 = saved['metrics']['accuracy_top-1']
    assert f'accuracy_top-1: {top1:.4f}' in train_log
