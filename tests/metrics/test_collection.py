import pytest
import torch
import torch.nn as nn
from mmcv.parallel import DataContainer, collate

import mmrazor_ext  # noqa: F401
from mmrazor_ext.metrics import (build_metric, collect_scores,
                                 collect_statistics, default_layers)

LAYERS = ['1', '4']  # the two BatchNorms


def small_net(inplace=True):
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace),
        nn.Conv2d(4, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(inplace),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))


def batches(n=3, size=5):
    gen = torch.Generator().manual_seed(1)
    return [(torch.randn(size, 3, 8, 8, generator=gen),
             torch.arange(i, i + size) % 3) for i in range(n)]


def _features(model, data):
    """All BN outputs at once, the slow way (clones every feature map)."""
    feats = {n: [] for n in LAYERS}
    hooks = [model.get_submodule(n).register_forward_hook(
        lambda m, i, o, n=n: feats[n].append(o.clone())) for n in LAYERS]
    model.eval()
    with torch.no_grad():
        for img, _ in data:
            model(img)
    for h in hooks:
        h.remove()
    return {n: torch.cat(f) for n, f in feats.items()}


@pytest.mark.parametrize('name', ['MeanActivationMetric', 'APoZMetric',
                                  'HRankMetric', 'CDPMetric'])
def test_collect_equals_metric_on_all_features(name):
    model, data = small_net(), batches()
    labels = torch.cat([y for _, y in data])
    expected = build_metric(name)(_features(model, data), labels=labels)
    got = collect_scores(model, name, data, layers=LAYERS)
    for n in LAYERS:
        torch.testing.assert_close(got[n], expected[n])


def test_taylor_matches_autograd_on_a_model_without_inplace_relu():
    data = batches()
    ref = small_net(inplace=False)
    acts = {}
    for n in LAYERS:
        ref.get_submodule(n).register_forward_hook(
            lambda m, i, o, n=n: acts.__setitem__(n, o))
    sums = {n: 0 for n in LAYERS}
    ref.eval()
    for img, y in data:
        loss = nn.functional.cross_entropy(ref(img), y, reduction='sum')
        grads = torch.autograd.grad(loss, [acts[n] for n in LAYERS])
        for n, g in zip(LAYERS, grads):
            sums[n] += (acts[n] * g).flatten(2).mean(2).abs().sum(0)
    model = small_net(inplace=True)
    got = collect_scores(model, 'TaylorMetric', data, layers=LAYERS)
    for n in LAYERS:
        torch.testing.assert_close(got[n], (sums[n] / 15).detach())
    assert all(p.grad is None for p in model.parameters())


def test_model_mode_restored_and_num_batches():
    model = small_net().train()
    collectors = collect_statistics(model, 'MeanActivationMetric', batches(),
                                    layers=LAYERS, num_batches=2)
    assert model.training
    assert collectors['1'].num_batches == 2


def test_mmcls_loader_batches_with_data_containers():
    samples = [dict(img=DataContainer(torch.randn(3, 8, 8), stack=True),
                    gt_label=torch.tensor(i % 3)) for i in range(6)]
    loader = [collate(samples[:4], samples_per_gpu=4), collate(samples[4:])]
    scores = collect_scores(small_net(), 'CDPMetric', loader, layers=LAYERS)
    assert [len(scores[n]) for n in LAYERS] == [4, 6]


def test_mmcls_classifier_default_layers_and_taylor():
    from mmcls.models import build_classifier
    model = build_classifier(dict(
        type='ImageClassifier',
        backbone=dict(type='CifarResNet', depth=20),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=3, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))))
    data = [dict(img=torch.randn(4, 3, 8, 8), gt_label=torch.arange(4) % 3)]
    layers = default_layers(model)
    # stem + 2 per block + 2 downsample shortcuts
    assert len(layers) == 21 and layers[0] == 'backbone.bn1'
    for name in ('TaylorMetric', 'CDPMetric'):
        scores = collect_scores(model, name, data)
        assert len(scores['backbone.layer3.2.bn2']) == 64
    blocks = collect_scores(model, 'CKAMetric', data)
    assert len(blocks) == 9 and all(len(s) == 1 for s in blocks.values())
    weights = collect_scores(model, 'BNScaleMetric')
    assert list(weights) == layers


def test_weight_metric_reads_module_weights():
    model = small_net()
    scores = collect_scores(model, 'L1Metric', layers=['0'])
    torch.testing.assert_close(scores['0'],
                               model[0].weight.abs().sum((1, 2, 3)))


@pytest.mark.parametrize('kwargs,match', [
    (dict(metric='CDPMetric', data=None), 'give data'),
    (dict(metric='MeanActivationMetric', data=batches(), layers=['7', 'x']),
     "layer 'x' is not a module of Sequential"),
    (dict(metric='CDPMetric', data=[torch.randn(2, 3, 8, 8)]),
     'needs labels'),
    (dict(metric='MeanActivationMetric', data=[]), 'no batch'),
])
def test_bad_input_is_a_one_line_error(kwargs, match):
    with pytest.raises(ValueError, match=match) as err:
        collect_scores(small_net(), **kwargs)
    assert '\n' not in str(err.value)


def test_layer_not_run_by_forward_is_named():
    class WithSpare(nn.Module):
        def __init__(self):
            super().__init__()
            self.net, self.unused = small_net(), nn.BatchNorm2d(3)

        def forward(self, x):
            return self.net(x)

    model = WithSpare()
    for metric in ('MeanActivationMetric', 'TaylorMetric'):
        with pytest.raises((ValueError, RuntimeError),
                           match=r"\['unused'\] were not run"):
            collect_scores(model, metric, batches(1),
                           layers=['net.1', 'unused'])


def test_metric_scores_collectors_as_contents():
    """The Pruner's path: it passes only ``contents``; collectors carry the
    labels CDP saw."""
    model, data = small_net(), batches()
    collectors = collect_statistics(model, 'CDPMetric', data, layers=LAYERS)
    scores = build_metric('CDPMetric')(collectors)
    expected = collect_scores(model, 'CDPMetric', data, layers=LAYERS)
    for n in LAYERS:
        torch.testing.assert_close(scores[n], expected[n])
    with pytest.raises(TypeError, match='filled by CDPMetric'):
        build_metric('APoZMetric')(collectors)
