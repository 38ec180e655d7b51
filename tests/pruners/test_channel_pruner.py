"""Spaces, sampling, subnet JSON, FLOPs target and bad input on small
models (one traced model shared per module)."""
import os

import pytest
import torch
import torchvision
from mmrazor.models.builder import build_pruner
from torch import nn

from mmrazor_ext.testing.model_zoo import calibrate_bn
from mmrazor_ext.utils.tensor_compare import assert_close, relative_error

SHAPE = (3, 32, 32)


def _pruner(model, **kw):
    p = build_pruner(dict(type='ChannelPruner', input_shape=SHAPE, **kw))
    p.prepare_from_supernet(model)
    return p


@pytest.fixture(scope='module')
def resnet():
    model = calibrate_bn(torchvision.models.resnet18(num_classes=10), SHAPE)
    return model, _pruner(model)


def test_spaces_of_resnet(resnet):
    model, p = resnet
    by_name = {sp.name: sp for sp in p.channel_spaces}
    # residual adds tie the stem, every block output and the shortcut conv
    stage1 = by_name['conv1']
    assert {'layer1.0.conv2', 'layer1.1.conv2'} <= set(stage1.producers)
    stage2 = [sp for sp in p.channel_spaces
              if 'layer2.0.downsample.0' in sp.producers][0]
    assert {'layer2.0.conv2', 'layer2.1.conv2'} <= set(stage2.producers)
    assert stage1.feature_layer == 'bn1'
    # the last stage feeds the classifier only through its inputs
    last = [sp for sp in p.channel_spaces if 'fc' in sp.consumers][0]
    assert last.prunable
    # classifier outputs and network input channels are never pruned
    assert all(sp.name != 'fc' or not sp.prunable for sp in p.channel_spaces)
    assert (p.layers['conv1'].in_pos == -1).all()
    assert (p.layers['fc'].out_pos == -1).all()
    assert p.feature_layer_names()[0] == 'bn1'


def small_mobilenet_v2():
    """torchvision's MobileNetV2 with two of its seven stages: the same
    blocks (1x1 expand, depthwise, 1x1 project) at a fraction of the trace
    time. The full net is traced by test_coverage."""
    return torchvision.models.MobileNetV2(
        num_classes=10, inverted_residual_setting=[[1, 16, 1, 1],
                                                   [6, 24, 2, 2]])


def test_depthwise_and_concat():
    p = _pruner(small_mobilenet_v2())
    sp = [s for s in p.channel_spaces
          if s.name == 'features.2.conv.0.0'][0]
    assert sp.passthrough == ['features.2.conv.1.0']
    # torchvision's DenseNet code with a narrow two-block configuration;
    # densenet121 itself is traced by test_coverage
    dn = torchvision.models.DenseNet(growth_rate=8, block_config=(3, 2),
                                     num_init_features=16, bn_size=2,
                                     num_classes=10)
    p = _pruner(dn)
    # the BN of a dense layer normalises a concat of several spaces
    rec = p.layers['features.denseblock1.denselayer3.conv1']
    touched = {int(i) for i in rec.in_pos if i >= 0}
    owners = {sp.name for sp in p.prunable_spaces for i in touched
              if sp.offset <= i < sp.offset + sp.num_channels}
    # the stem (conv0) and the conv2 of denselayers 1 and 2, at offsets
    assert owners == {'features.conv0',
                      'features.denseblock1.denselayer1.conv2',
                      'features.denseblock1.denselayer2.conv2'}


def test_unknown_op_warns_and_blocks():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 8, 3)
            self.b = nn.Conv2d(8, 8, 1)
            self.fc = nn.Linear(8, 2)

        def forward(self, x):
            x = self.a(x)
            x = torch.cumsum(x, 1)  # mixes channels
            return self.fc(self.b(x).mean((2, 3)))

    with pytest.warns(UserWarning, match='CumsumBackward'):
        p = _pruner(Odd())
    sp = {s.name: s for s in p.channel_spaces}
    assert not sp['a'].prunable and 'Cumsum' in sp['a'].reason
    assert sp['b'].prunable


def test_sampling(resnet):
    model, p = resnet
    sc = p.get_metric_local('L1Metric')
    assert set(sc) == set(p.space_names())
    sub = p.sample_subnet_uniform(0.5, sc)
    for sp in p.prunable_spaces:
        assert len(sub[sp.name]) == sp.num_channels // 2
        assert sub[sp.name] == sorted(sub[sp.name])
        best = torch.topk(sc[sp.name], len(sub[sp.name])).indices
        assert set(best.tolist()) == set(sub[sp.name])
    diff = p.sample_subnet_diff(0.4, sc)
    kept = sum(map(len, diff.values()))
    total = sum(sp.num_channels for sp in p.prunable_spaces)
    assert abs(kept - 0.6 * total) <= 1
    names = p.space_names()
    non = p.sample_subnet_nonuni({names[0]: 0.75}, sc)
    assert len(non[names[0]]) == p.prunable_spaces[0].num_channels // 4
    assert len(non[names[1]]) == p.prunable_spaces[1].num_channels
    p8 = build_pruner(dict(type='ChannelPruner', input_shape=SHAPE,
                           divisor=8, min_channels=16))
    p8.prepare_from_supernet(torchvision.models.resnet18(num_classes=10))
    s8 = p8.sample_subnet_uniform(0.9, p8.get_metric_local('L1Metric'))
    assert all(len(v) % 8 == 0 and len(v) >= 16 for v in s8.values())


@pytest.mark.parametrize('target', [0.3, 0.5])
def test_flops_target(resnet, target):
    model, p = resnet
    sub = p.sample_subnet_flops(target, p.get_metric_local('L1Metric'))
    red = 1 - p.flops_params(sub)[0] / p.flops_params({})[0]
    assert abs(red - target) <= 0.02 * target
    p.set_subnet(sub)
    small = p.export()
    fresh = _pruner(small)
    assert fresh.flops_params() == p.flops_params(sub)
    p.set_subnet({})


def test_flops_params_and_export_default_to_the_subnet_set(resnet):
    """Issue 12 item 11: both count / export the subnet set unless told;
    ``{}`` is the unpruned model; ``scores=None`` keeps the first
    channels."""
    model, p = resnet
    full = p.flops_params({})
    sub = p.sample_subnet_uniform(0.5, p.get_metric_local('L1Metric'))
    p.set_subnet(sub)
    try:
        now = p.flops_params()
        assert now == p.flops_params(sub)
        assert now[0] < full[0] and now[1] < full[1]
        assert now[1] == sum(q.numel() for q in p.export().parameters())
        assert full[1] == sum(q.numel() for q in model.parameters())
        assert p.flops_params({}) == full
        for sample in (p.sample_subnet_uniform, p.sample_subnet_diff):
            first = sample(0.5)
            assert all(v == list(range(len(v))) for v in first.values())
    finally:
        p.set_subnet({})


def test_subnet_json_roundtrip_onto_a_fresh_model(resnet, tmp_path):
    """The subnet JSON and the pruned state dict rebuild the exported model
    on a freshly built, differently initialised one. (Across processes, a
    subnet written by a training run and loaded by tools/test.py's path, is
    checked in tests/algorithms/test_one_shot_train.py.)"""
    model, p = resnet
    sub = p.sample_subnet_uniform(0.3, p.get_metric_local('L1Metric'))
    path = str(tmp_path / 'subnet.json')
    p.save_subnet(sub, path)
    assert p.load_subnet(path) == sub
    assert not [f for f in os.listdir(tmp_path) if f.startswith('.subnet')]
    p.set_subnet(sub)
    small = p.export()
    torch.save(small.state_dict(), str(tmp_path / 'pruned.pth'))
    x = torch.randn(2, *SHAPE)
    small.eval()
    with torch.no_grad():
        y = small(x)
    p.set_subnet({})

    fresh = _pruner(torchvision.models.resnet18(num_classes=10))
    fresh.set_subnet(fresh.load_subnet(path))
    rebuilt = fresh.export().eval()
    with torch.no_grad():
        assert relative_error(rebuilt(x), y) > 1e-3  # weights not loaded
        rebuilt.load_state_dict(torch.load(str(tmp_path / 'pruned.pth')))
        assert_close(rebuilt(x), y, rtol=1e-5)


def test_bad_input(resnet, tmp_path):
    model, p = resnet
    before = p.get_subnet()
    for r in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match='ratio'):
            p.sample_subnet_uniform(r)
    with pytest.raises(ValueError, match='ratios'):
        p.sample_subnet_nonuni([0.3])
    with pytest.raises(ValueError, match='unknown space'):
        p.sample_subnet_nonuni({'nope': 0.3})
    names = p.space_names()
    with pytest.raises(ValueError, match=names[1]):
        p.set_subnet({names[0]: [0], names[1]: [10 ** 6]})
    assert p.get_subnet() == before  # nothing half-applied
    other = _pruner(small_mobilenet_v2())
    path = str(tmp_path / 'other.json')
    other.save_subnet(other.sample_subnet_uniform(0.3), path)
    with pytest.raises(ValueError, match='another model'):
        p.load_subnet(path)
    with pytest.raises(ValueError, match='nothing to prune'):
        _pruner(nn.Sequential())

    class TwoInputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 4, 1)

        def forward(self, x, y):
            return self.c(x) + self.c(y)

    with pytest.raises(ValueError, match='more than one input'):
        _pruner(TwoInputs())


def test_metric_kinds(resnet):
    model, p = resnet
    from mmrazor_ext.metrics.base_metric import BaseMetric

    class Gamma(BaseMetric):
        input_kind = 'norm_weight'

        def score(self, t):
            return t.abs()

    class Feat(BaseMetric):
        input_kind = 'feature'

        def score(self, t):
            return t

    s = p.get_metric_local(Gamma())
    assert all(v.numel() == sp.num_channels
               for v, sp in zip(s.values(), p.prunable_spaces))
    with pytest.raises(ValueError, match='feature_layer_names'):
        p.get_metric_local(Feat())
    contents = {n: torch.arange(p.layers[n].out_channels).float()
                for n in p.feature_layer_names()}
    s = p.get_metric_local(Feat(), contents)
    sp = p.prunable_spaces[0]
    assert torch.argmax(s[sp.name]) == sp.num_channels - 1
