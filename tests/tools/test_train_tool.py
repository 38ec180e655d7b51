"""tools/train.py, tools/test.py and the dist scripts, run as a user would."""
import json
import os

import pytest
import torch

from tool_runner import run


def load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def test_single_process_run(trained):
    cfg, work, result = trained
    ckpt = load(work / 'epoch_1.pth')
    assert ckpt['meta']['epoch'] == 1
    assert ckpt['meta']['CLASSES'] == [str(i) for i in range(10)]
    log = result.stderr + result.stdout
    assert 'Distributed: False, device: cpu' in log
    assert 'accuracy_top-1' in log
    assert '360/360' in log  # the progress bar of the evaluation
    # the config used is kept beside the checkpoints
    assert any(f.endswith('_tiny.py') for f in os.listdir(work))


def test_resume_continues_at_next_epoch(trained, tmp_path):
    cfg, work, _ = trained
    # weights_only=True, torch's default since 2.6, reads our checkpoints
    torch.load(work / 'epoch_1.pth', map_location='cpu', weights_only=True)
    result = run(['tools/train.py', cfg, '--work-dir', str(tmp_path),
                  '--resume-from', str(work / 'epoch_1.pth'),
                  '--cfg-options', 'runner.max_epochs=2'])
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stderr + result.stdout
    assert 'resumed epoch 1, iter 12' in log
    assert 'Epoch [1][' not in log and 'Epoch [2][12/12]' in log
    assert not (tmp_path / 'epoch_1.pth').exists()
    assert load(tmp_path / 'epoch_2.pth')['meta']['epoch'] == 2
    # resumed weights, not a fresh start: the optimizer state came along
    first = load(work / 'epoch_1.pth')['optimizer']['state']
    assert len(first) > 0


def test_load_from_starts_at_epoch_one(trained, tmp_path):
    cfg, work, _ = trained
    result = run(['tools/train.py', cfg, '--work-dir', str(tmp_path),
                  '--load-from', str(work / 'epoch_1.pth'),
                  '--cfg-options', 'optimizer.lr=0'])
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stderr + result.stdout
    assert 'load checkpoint from' in log and 'Epoch [1][12/12]' in log
    # lr 0 (warm-up included): the loaded weights are trained no further
    old = load(work / 'epoch_1.pth')['state_dict']
    new = load(tmp_path / 'epoch_1.pth')['state_dict']
    conv = 'backbone.layer3.2.conv2.weight'
    assert torch.equal(old[conv], new[conv])


def test_test_tool_accuracy_and_out(trained, tmp_path):
    cfg, work, result = trained
    out = tmp_path / 'res.json'
    test = run(['tools/test.py', cfg, str(work / 'epoch_1.pth'),
                '--metrics', 'accuracy', 'f1_score', '--out', str(out)])
    assert test.returncode == 0, test.stderr[-3000:]
    saved = json.loads(out.read_text())
    assert len(saved['pred_label']) == 360
    assert {'accuracy_top-1', 'f1_score'} <= set(saved['metrics'])
    # same number as the evaluation at the end of training
    train_log = result.stderr + result.stdout
    top1 = saved['metrics']['accuracy_top-1']
    assert f'accuracy_top-1: {top1:.4f}' in train_log


def test_two_process_gloo_ranks_agree(trained, tmp_path):
    cfg, work, _ = trained
    dist = run(['bash', 'tools/dist_train.sh', '2', cfg, '--work-dir',
                str(tmp_path), '--seed', '0'],
               env=dict(MASTER_PORT='29533'))
    assert dist.returncode == 0, dist.stderr[-3000:]
    assert 'Distributed: True, device: cpu' in dist.stderr + dist.stdout
    ranks = [load(tmp_path / f'rank{r}_final.pth') for r in (0, 1)]
    assert [r['world'] for r in ranks] == [2, 2]
    weights = [{k: v for k, v in r['state'].items() if 'running' not in k
                and 'num_batches' not in k} for r in ranks]
    assert weights[0].keys() == weights[1].keys()
    for key in weights[0]:
        assert torch.equal(weights[0][key], weights[1][key]), key
    single = load(work / 'rank0_final.pth')['state']
    conv = 'backbone.layer1.0.conv1.weight'
    assert not torch.equal(single[conv], weights[0][conv])  # it trained

    # evaluation over 2 processes gives the single-process numbers
    one = run(['tools/test.py', cfg, str(tmp_path / 'epoch_1.pth'),
               '--out', str(tmp_path / 'one.json')])
    two = run(['bash', 'tools/dist_test.sh', '2', cfg,
               str(tmp_path / 'epoch_1.pth'), '--out',
               str(tmp_path / 'two.json')], env=dict(MASTER_PORT='29534'))
    assert one.returncode == 0 and two.returncode == 0, two.stderr[-3000:]
    one, two = (json.loads((tmp_path / f).read_text())
                for f in ('one.json', 'two.json'))
    assert one['pred_label'] == two['pred_label']
    assert one['metrics'] == pytest.approx(two['metrics'])
