"""OneShot built, pruned and trained by hand (no runner): masks held under
optimizer updates, the state dict, settings checks."""
import numpy as np
import pytest
import torch
from one_shot_setup import DATA, MODEL
from mmrazor.models import build_algorithm

from mmrazor_ext.apis import UserInputError
from mmrazor_ext.utils.tensor_compare import assert_close


def build(pretrained=None, prune=True, **kwargs):
    """A OneShot algorithm, pruned by its first step unless ``prune`` is
    False (building alone never prunes)."""
    cfg = dict(type='OneShot', pretrained=pretrained,
               architecture=dict(type='MMClsArchitecture', model=MODEL),
               pruner=dict(type='ChannelPruner', input_shape=(3, 16, 16)),
               metric='L1Metric', mode='uniform', ratio=0.5, evaluate=False)
    cfg.update(kwargs)
    algo = build_algorithm(cfg)
    if prune:
        algo.prune_step(0)
    return algo


def test_building_does_no_work(monkeypatch):
    from mmrazor_ext.algorithms import BasePruningAlgorithm

    def fail(*args, **kwargs):
        raise AssertionError('scored or evaluated while building')
    monkeypatch.setattr(BasePruningAlgorithm, 'scores', fail)
    monkeypatch.setattr(BasePruningAlgorithm, 'evaluate_val', fail)
    algo = build(prune=False, metric=dict(type='CDPMetric', num_classes=10),
                 data=DATA, evaluate=True, recalibrate_bn=1)
    assert bool(algo.pruned_keep.all()) and int(algo.steps_done) == 0
    assert not algo.masks and 'before_pruning' not in algo.record


def pruned_values(algo):
    """Every parameter entry that the masks zero."""
    return torch.cat([p.detach()[(m == 0).expand_as(p)].flatten()
                      for p, m in algo.masks])


def batch(n=8):
    return dict(img=torch.randn(n, 3, 16, 16),
                gt_label=torch.randint(0, 10, (n, )))


OPTIMIZERS = {
    'sgd': lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9,
                                     weight_decay=0.1, nesterov=True),
    'adam': lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1),
    'adamw': lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
}


@pytest.mark.parametrize('name', list(OPTIMIZERS))
def test_pruned_params_stay_zero(name):
    torch.manual_seed(0)
    algo = build()
    assert algo.masks and pruned_values(algo).abs().max() == 0
    # optimizer state from before pruning (momentum, Adam moments) must
    # not revive pruned channels: train the full model first
    algo.pruner.set_subnet({})
    algo.masks = []
    opt = OPTIMIZERS[name](algo.parameters())
    for _ in range(2):
        out = algo.train_step(batch(), opt)
        opt.zero_grad()
        out['loss'].backward()
        opt.step()
    # without the optimizer: its momentum / moments of the pruned entries
    # are left non-zero, and only the step hook keeps them from moving
    algo.apply_subnet(algo.pruner.sample_subnet_uniform(0.5))
    assert algo.masks
    before = [p.detach().clone() for p in algo.parameters()]
    for _ in range(3):
        out = algo.train_step(batch(), opt)
        opt.zero_grad()
        out['loss'].backward()
        opt.step()
    assert pruned_values(algo).abs().max() == 0
    assert any(not torch.equal(a, b) for a, b in
               zip(before, algo.parameters()))  # the rest does train
    for p, m in algo.masks:  # optimizer state of pruned entries is zero
        for v in opt.state[p].values():
            if torch.is_tensor(v) and v.shape == p.shape:
                assert v[(m == 0).expand_as(p)].abs().max() == 0


def test_export_equals_masked_model():
    torch.manual_seed(0)
    algo = build(mode='diff', ratio=0.4)
    opt = OPTIMIZERS['sgd'](algo.parameters())
    out = algo.train_step(batch(), opt)
    out['loss'].backward()
    opt.step()
    model = algo.architecture.model.eval()
    small = algo.pruner.export().eval()
    x = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        a = np.stack(model(x, return_loss=False))
        b = np.stack(small(x, return_loss=False))
    assert_close(torch.from_numpy(b), torch.from_numpy(a), rtol=1e-5)
    assert sum(p.numel() for p in small.parameters()) < \
        sum(p.numel() for p in model.parameters())


def test_state_dict_carries_the_subnet():
    torch.manual_seed(0)
    algo = build(ratio=0.5)
    state = algo.state_dict()
    other = build(metric=dict(type='RandomMetric', seed=3), ratio=0.25,
                  prune=False)
    assert other.pruner.get_subnet() != algo.pruner.get_subnet()
    other.load_state_dict(state)
    assert other.pruner.get_subnet() == algo.pruner.get_subnet()
    assert pruned_values(other).abs().max() == 0


def test_nonuni_and_flops_modes():
    algo = build(mode='nonuni', ratio=None,
                 ratios={'backbone.layer3.0.conv1': 0.5})
    sizes = {k: len(v) for k, v in algo.pruner.get_subnet().items()}
    assert sizes['backbone.layer3.0.conv1'] == 32
    assert sizes['backbone.layer2.0.conv1'] == 32
    algo = build(mode='uniform', ratio=None, budget=dict(flops=0.5))
    flops = algo.pruner.flops_params(algo.pruner.get_subnet())[0]
    assert abs(flops / algo.full_flops - 0.5) < 0.02


def test_old_flops_target_warns_and_prunes_the_same():
    """flops_target (FLOPs removed) still works for one release: the
    warning names the new key, the subnet is budget=dict(flops=1 - r)'s."""
    torch.manual_seed(0)
    new = build(mode='uniform', ratio=None, budget=dict(flops=0.7))
    torch.manual_seed(0)
    with pytest.warns(FutureWarning, match=r'OneShot: flops_target=0\.3 '
                      r'\(FLOPs removed\) is deprecated .* use '
                      r'budget=dict\(flops=0\.7\) \(FLOPs kept\)'):
        old = build(mode='uniform', ratio=None, flops_target=0.3)
    assert old.budget == dict(flops=0.7)
    assert old.pruner.get_subnet() == new.pruner.get_subnet()


@pytest.mark.parametrize('kwargs, match', [
    (dict(budget=dict(flops=0.01), ratio=None,
          pruner=dict(type='ChannelPruner', input_shape=(3, 16, 16),
                      min_channels=8)), 'cannot be reached'),
    (dict(mode='global'), "mode 'global'"),
    (dict(budget=dict(flops=0.5)), 'exactly one of'),
    (dict(budget=dict(latency=0.5), ratio=None),
     "budget key 'latency' is not supported here yet"),
    (dict(budget=dict(flops=1.5), ratio=None),
     r'flops=1.5 must be in \(0, 1\]'),
    (dict(flops_target=1.5, ratio=None), r'flops_target must be in \[0, 1\)'),
    (dict(ratio=1.5), 'ratio must be in'),
    (dict(metric='CDPMetric'), 'needs data'),
    (dict(pretrained='/nonexistent.pth'), 'not found'),
])
def test_bad_settings(kwargs, match):
    with pytest.raises(UserInputError, match=match):
        build(prune=False, **kwargs)


def test_feature_metric_and_bn_recalibration():
    algo = build(metric=dict(type='CDPMetric', num_classes=10),
                 num_batches=1, data=DATA, evaluate=True, recalibrate_bn=1)
    rec = algo.record
    for key in ('before_pruning', 'after_pruning', 'after_recalibration'):
        assert set(rec[key]) == {'top-1', 'top-5'}
    assert rec['steps'][0]['flops'] < algo.full_flops
    bn = algo.architecture.model.backbone.bn1
    assert bn.momentum == 0.1 and int(bn.num_batches_tracked) == 1


def test_seeded_draws_the_same_batches_and_leaves_global_state():
    """Scoring / recalibration batches are the same whatever ran before:
    torch, numpy and python's random (mmcls's RandomCrop) are seeded, and
    the caller's generators continue as if nothing ran."""
    import random
    algo = build(prune=False)

    def draw():
        return (torch.rand(1).item(), np.random.rand(), random.random())
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    first = algo.seeded(draw)
    after = draw()
    random.seed(2), np.random.seed(2), torch.manual_seed(2)
    assert algo.seeded(draw) == first
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    assert draw() == after
