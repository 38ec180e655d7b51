"""OneShot through tools/train.py and tools/test.py: outputs, report,
fine-tuning on the physically pruned model, resume across the switch,
iterative mode, bad input."""
import json
import os
import logging

import numpy as np
import pytest
import torch
from one_shot_setup import MODEL, ROOT, write_cfg
from mmcls.models import build_classifier
from mmcv import Config
from mmcv.runner import load_checkpoint
from mmrazor.models import build_algorithm

from mmrazor_ext.apis import load_pruned
from mmrazor_ext.utils.tensor_compare import assert_close


def run(train_main, cfg, work_dir, *args):
    train_main([cfg, '--work-dir', str(work_dir), '--seed', '0', *args])


def load(path):
    """Checkpoints and model files load without unpickling objects."""
    return torch.load(path, map_location='cpu', weights_only=True)


@pytest.fixture(scope='module')
def iterative(tmp_path_factory, pretrained, train_main):
    """Two prune steps (epochs 1 and 2), one more epoch: epoch_1.pth is
    masked, epoch_2.pth and epoch_3.pth hold the physically pruned model."""
    tmp = tmp_path_factory.mktemp('iterative')
    work = tmp / 'work'
    cfg = write_cfg(tmp, pretrained, metric='FPGMMetric', num_steps=2,
                    step_interval=1, budget=dict(flops=0.4))
    run(train_main, cfg, work, '--cfg-options', 'runner.max_epochs=3')
    return cfg, work


class _Lines(logging.Handler):

    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_outputs_report_and_test_contract(tmp_path, pretrained,
                                          train_main):
    cfg = write_cfg(tmp_path, pretrained)
    work = tmp_path / 'work'
    lines = _Lines()  # what the log file says, read from mmcls's logger
    logging.getLogger('mmcls').addHandler(lines)
    try:
        train_main([cfg, '--work-dir', str(work)])
    finally:
        logging.getLogger('mmcls').removeHandler(lines)
    files = set(os.listdir(work))
    assert {'subnet.json', 'pruned_model.pth', 'oneshot_report.json',
            'epoch_1.pth', 'latest.pth'} <= files
    assert not [f for f in files if f.startswith('.')]  # no temp files
    report = json.load(open(work / 'oneshot_report.json'))
    for stage in ('before_pruning', 'after_pruning', 'after_finetune'):
        assert set(report['accuracy'][stage]) == {'top-1', 'top-5'}
    assert 0.45 < report['flops']['ratio'] < 0.55
    assert report['params']['pruned'] < report['params']['unpruned']
    assert report['finetune'] == 'pruned'
    ms = report['latency_ms']['batch_1']
    assert ms['unpruned'] > 0 and ms['exported'] > 0
    assert report['files']['checkpoint'] == 'epoch_1.pth'
    text = '\n'.join(lines.lines)
    assert 'right after pruning' in text and 'after fine-tuning' in text
    assert 'fine-tuning continues on the physically pruned model' in text
    # the whole epoch trained the small model: its checkpoint holds it
    state = load(work / 'epoch_1.pth')['state_dict']
    assert load(work / 'pruned_model.pth')['kind'] == 'pruned'
    exported = load_pruned(cfg, str(work / 'pruned_model.pth'))
    deploy = load_pruned(None, str(work / 'deploy_model.pth'))  # own cfg
    assert bool(state['pruned_exported'])
    small = {k: v.shape for k, v in exported.state_dict().items()}
    for key, shape in small.items():
        assert state['architecture.model.' + key].shape == shape, key
    # the optimizer state in the checkpoint is the small model's
    opt = load(work / 'epoch_1.pth')['optimizer']['state']
    n_small = sum(v.numel() for k, v in exported.state_dict().items()
                  if 'running' not in k and 'num_batches' not in k)
    assert sum(s['momentum_buffer'].numel() for s in opt.values()) == n_small

    # tools/test.py's contract: build with subnet=..., load the checkpoint
    algo_cfg = Config.fromfile(cfg).algorithm
    algo_cfg.subnet = str(work / 'subnet.json')
    algo_cfg.pretrained = None
    algo = build_algorithm(algo_cfg)
    load_checkpoint(algo, str(work / 'epoch_1.pth'), map_location='cpu',
                    strict=True)  # no mask buffers in checkpoints
    subnet = json.load(open(work / 'subnet.json'))['subnet']
    assert algo.pruner.get_subnet() == subnet and algo.is_exported
    model = algo.architecture.model.eval()
    x = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        a = np.stack(model(x, return_loss=False))
        b = np.stack(exported.eval()(x, return_loss=False))
        c = np.stack(deploy(x, return_loss=False))
    assert_close(torch.from_numpy(b), torch.from_numpy(a), rtol=1e-5)
    assert_close(torch.from_numpy(c), torch.from_numpy(a), rtol=1e-5)


def test_iterative_steps_then_switch(iterative):
    cfg, work = iterative
    report = json.load(open(work / 'oneshot_report.json'))
    steps = report['steps']
    assert [s['step'] for s in steps] == [1, 2]
    assert steps[0]['flops'] > steps[1]['flops']
    assert abs(report['flops']['ratio'] - 0.4) < 0.03
    assert abs(steps[0]['flops'] / report['flops']['unpruned'] - 0.7) < 0.03
    states = [load(work / f'epoch_{e}.pth')['state_dict'] for e in (1, 2)]
    keep1, keep2 = (s['pruned_keep'] for s in states)
    assert bool((keep2 <= keep1).all()) and keep2.sum() < keep1.sum()
    # masked between the steps, physically pruned after the last one
    assert not bool(states[0]['pruned_exported'])
    assert bool(states[1]['pruned_exported'])
    conv = 'architecture.model.backbone.layer3.0.conv1.weight'
    assert states[0][conv].shape[0] == 64 > states[1][conv].shape[0]


@pytest.mark.parametrize('epoch', [1, 2])
@pytest.mark.parametrize('with_subnet', [False, True])
def test_test_tool_before_and_after_the_switch(iterative, epoch,
                                               with_subnet, tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'test_tool', os.path.join(ROOT, 'tools', 'test.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    cfg, work = iterative
    ckpt = str(work / f'epoch_{epoch}.pth')
    args = [cfg, ckpt, '--out', str(tmp_path / 'out.json')]
    if with_subnet:
        args += ['--subnet', str(work / 'subnet.json')]
    if with_subnet and epoch == 1:
        # subnet.json is the last step's; epoch_1.pth holds the first's
        with pytest.raises(SystemExit) as e:
            tool.main(args)
        assert str(e.value.code).startswith(
            f'test.py: error: --subnet {work}/subnet.json differs from the '
            f'subnet checkpoint {ckpt} holds (')
        return
    tool.main(args)
    top1 = json.load(open(tmp_path / 'out.json'))['metrics']['accuracy_top-1']
    # the same number as the run's own evaluation of that epoch
    log = open([str(work / f) for f in os.listdir(work)
                if f.endswith('.log.json')][0]).read().splitlines()
    evals = [json.loads(line) for line in log
             if '"mode": "val"' in line]
    assert top1 == pytest.approx(evals[epoch - 1]['accuracy_top-1'])


@pytest.mark.parametrize('start', [1, 2])
def test_resume_across_the_switch(iterative, start, tmp_path, train_main):
    """From a masked checkpoint (the switch happens in the resumed run)
    and from a physically pruned one, the resumed run ends where the
    uninterrupted one did: same subnet, same small architecture."""
    cfg, work = iterative
    # after the last step another metric changes nothing: the subnet is
    # the checkpoint's; before it, step 2 scores the resumed weights
    metric = 'RandomMetric' if start == 2 else 'FPGMMetric'
    run(train_main, cfg, tmp_path, '--resume-from',
        str(work / f'epoch_{start}.pth'), '--cfg-options',
        'runner.max_epochs=3', f'algorithm.metric={metric}')
    a = load(work / 'epoch_3.pth')
    b = load(tmp_path / 'epoch_3.pth')
    assert torch.equal(a['state_dict']['pruned_keep'],
                       b['state_dict']['pruned_keep'])
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():
        assert value.shape == b['state_dict'][key].shape, key
    report = json.load(open(tmp_path / 'oneshot_report.json'))
    assert report['epochs'] == 3
    assert 'before_pruning' in report['accuracy']  # from the checkpoint
    assert json.load(open(tmp_path / 'subnet.json')) == \
        json.load(open(work / 'subnet.json'))


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
                                         other_model_files):
    ckpt32, subnet56 = other_model_files
    cases = [
        (dict(pretrained=ckpt32), 'does not match the architecture'),
        (dict(budget=dict(flops=0.01),
              pruner=dict(type='ChannelPruner', input_shape=(3, 16, 16),
                          min_channels=4)), 'cannot be reached'),
        (dict(subnet=subnet56), 'subnet'),
        (dict(finetune='physical'), "finetune='physical'"),
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


def test_load_from_a_pruned_checkpoint(iterative, tmp_path, train_main):
    """``--load-from`` a physically pruned checkpoint: the small model is
    rebuilt before its weights load, and training goes on on it."""
    cfg, work = iterative
    saved = load(work / 'epoch_2.pth')['state_dict']
    run(train_main, cfg, tmp_path, '--load-from', str(work / 'epoch_2.pth'),
        '--cfg-options', 'runner.max_epochs=1')
    state = load(tmp_path / 'epoch_1.pth')['state_dict']
    assert bool(state['pruned_exported'])
    assert torch.equal(state['pruned_keep'], saved['pruned_keep'])
    conv = 'architecture.model.backbone.layer1.0.conv1.weight'
    assert state[conv].shape == saved[conv].shape
    # the optimizer was built on the small model's parameters: they train
    assert not torch.equal(state[conv], saved[conv])
