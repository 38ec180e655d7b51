"""OneShot through tools/train.py: outputs, report, resume, iterative
mode, bad input and the tools/test.py contract (build with ``subnet``,
then load the checkpoint)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from one_shot_setup import MODEL, ROOT, write_cfg
from mmcls.models import build_classifier
from mmcv import Config
from mmcv.runner import load_checkpoint
from mmrazor.models import build_algorithm


def run(train_main, cfg, work_dir, *args):
    train_main([cfg, '--work-dir', str(work_dir), '--seed', '0', *args])


def test_outputs_report_and_test_contract(tmp_path, pretrained):
    cfg = write_cfg(tmp_path, pretrained)
    work = tmp_path / 'work'
    # a fresh process, as users run it; the report table goes to the log
    out = subprocess.run([sys.executable, 'tools/train.py', cfg,
                          '--work-dir', str(work)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    files = set(os.listdir(work))
    assert {'subnet.json', 'pruned_model.pth', 'oneshot_report.json',
            'epoch_1.pth', 'latest.pth'} <= files
    assert not [f for f in files if f.startswith('.')]  # no temp files
    report = json.load(open(work / 'oneshot_report.json'))
    for stage in ('before_pruning', 'after_pruning', 'after_finetune'):
        assert set(report['accuracy'][stage]) == {'top-1', 'top-5'}
    assert 0.45 < report['flops']['ratio'] < 0.55
    assert report['params']['pruned'] < report['params']['unpruned']
    ms = report['latency_ms']['batch_1']
    assert ms['unpruned'] > 0 and ms['exported'] > 0
    assert report['files']['checkpoint'] == 'epoch_1.pth'
    log = [f for f in files if f.endswith('.log')]
    text = open(work / log[0]).read()
    assert 'right after pruning' in text and 'after fine-tuning' in text

    # tools/test.py's contract: build with subnet=..., load the checkpoint
    algo_cfg = Config.fromfile(cfg).algorithm
    algo_cfg.subnet = str(work / 'subnet.json')
    algo_cfg.pretrained = None
    algo = build_algorithm(algo_cfg)
    load_checkpoint(algo, str(work / 'epoch_1.pth'), map_location='cpu',
                    strict=True)  # no mask buffers in checkpoints
    subnet = json.load(open(work / 'subnet.json'))['subnet']
    assert algo.pruner.get_subnet() == subnet
    model = algo.architecture.model.eval()
    for p, m in algo.masks:  # the checkpoint holds zeros there
        assert p[(m == 0).expand_as(p)].abs().max() == 0
    exported = torch.load(work / 'pruned_model.pth', weights_only=False)
    x = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        a = np.stack(model(x, return_loss=False))
        b = np.stack(exported.eval()(x, return_loss=False))
    assert np.abs(a - b).max() < 1e-5


def test_resume_keeps_masks(tmp_path, pretrained, train_main):
    work = tmp_path / 'work'
    cfg = write_cfg(tmp_path, pretrained, metric='L1Metric')
    run(train_main, cfg, work, '--cfg-options', 'runner.max_epochs=1')
    first = json.load(open(work / 'subnet.json'))['subnet']
    # the resumed run would score differently (random metric), yet the
    # checkpoint's subnet wins
    run(train_main, cfg, work, '--resume-from', str(work / 'epoch_1.pth'),
        '--cfg-options', 'runner.max_epochs=2',
        'algorithm.metric=RandomMetric')
    assert json.load(open(work / 'subnet.json'))['subnet'] == first
    report = json.load(open(work / 'oneshot_report.json'))
    assert report['epochs'] == 2
    state = torch.load(work / 'epoch_2.pth', weights_only=False)
    keep = state['state_dict']['pruned_keep']
    assert int(keep.sum()) == sum(len(v) for v in first.values())


def test_iterative_steps(tmp_path, pretrained, train_main):
    work = tmp_path / 'work'
    cfg = write_cfg(tmp_path, pretrained, metric='FPGMMetric', num_steps=2,
                    step_interval=1, flops_target=0.6)
    run(train_main, cfg, work, '--cfg-options', 'runner.max_epochs=2')
    report = json.load(open(work / 'oneshot_report.json'))
    steps = report['steps']
    assert [s['step'] for s in steps] == [1, 2]
    assert steps[0]['flops'] > steps[1]['flops']
    assert abs(report['flops']['ratio'] - 0.4) < 0.03
    assert abs(steps[0]['flops'] / report['flops']['unpruned'] - 0.7) < 0.03
    keep1 = torch.load(work / 'epoch_1.pth',
                       weights_only=False)['state_dict']['pruned_keep']
    keep2 = torch.load(work / 'epoch_2.pth',
                       weights_only=False)['state_dict']['pruned_keep']
    assert bool((keep2 <= keep1).all()) and keep2.sum() < keep1.sum()


@pytest.fixture
def other_model_files(tmp_path):
    """A ResNet-32 checkpoint and a subnet of that model."""
    model = build_classifier(dict(MODEL, backbone=dict(type='CifarResNet',
                                                       depth=32)))
    ckpt = tmp_path / 'resnet32.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    algo = build_algorithm(dict(
        type='OneShot', architecture=dict(
            type='MMClsArchitecture', model=dict(
                MODEL, backbone=dict(type='CifarResNet', depth=56))),
        pruner=dict(type='ChannelPruner', input_shape=(3, 16, 16)),
        ratio=0.5, evaluate=False))
    subnet = tmp_path / 'subnet56.json'
    algo.pruner.save_subnet(algo.pruner.get_subnet(), str(subnet))
    return str(ckpt), str(subnet)


def test_bad_input_stops_before_training(tmp_path, pretrained, train_main,
                                         other_model_files, capsys):
    ckpt32, subnet56 = other_model_files
    cases = [
        (dict(pretrained=ckpt32), 'does not match the architecture'),
        (dict(flops_target=0.99,
              pruner=dict(type='ChannelPruner', input_shape=(3, 16, 16),
                          min_channels=4)), 'cannot be reached'),
        (dict(subnet=subnet56), 'subnet'),
    ]
    for i, (kwargs, match) in enumerate(cases):
        kwargs.setdefault('pretrained', pretrained)
        cfg = write_cfg(tmp_path, name=f'bad{i}.py', **kwargs)
        work = tmp_path / f'work{i}'
        with pytest.raises(SystemExit) as e:
            run(train_main, cfg, work)
        msg = str(e.value.code)
        assert msg.startswith('train.py: error:') and match in msg, msg
        assert '\n' not in msg
        assert not work.exists()
