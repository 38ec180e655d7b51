"""Widths rounded to the divisor: multiples of it or the whole space,
spaces not wider than it kept whole, and FLOPs targets met from below
within 2% (never over budget) at the default divisor."""
import warnings

import pytest
import torch
from mmcls.models import build_classifier

import mmrazor_ext  # noqa: F401
from mmrazor_ext.pruners import ChannelPruner
from mmrazor_ext.pruners.sampling.width_rounding import (
    DEFAULT_DIVISOR, next_width, round_width)


@pytest.mark.parametrize('n,k,divisor,min_channels,expected', [
    (64, 30, 16, 1, 32),   # nearest multiple
    (64, 23.9, 16, 1, 16),
    (64, 3, 16, 1, 16),    # at least one multiple
    (24, 10, 16, 1, 16),
    (24, 21, 16, 1, 24),   # the whole space is an option too
    (16, 2, 16, 1, 16),    # not wider than the divisor: kept whole
    (8, 2, 16, 1, 8),
    (64, 10, 16, 20, 32),  # min_channels rounded up to the divisor
    (64, 30.4, 1, 1, 30),  # divisor 1: the nearest channel
    (5, 0.2, 1, 1, 1),
])
def test_round_width(n, k, divisor, min_channels, expected):
    assert round_width(n, k, divisor, min_channels) == expected


def test_next_width():
    assert [next_width(40, k, 16) for k in (16, 32)] == [32, 40]


def _model(backbone, channels):
    return build_classifier(dict(
        type='ImageClassifier', backbone=backbone,
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10,
                  in_channels=channels))).eval()


@pytest.fixture(scope='module', params=['resnet20', 'mobilenetv2'])
def pruner(request):
    torch.manual_seed(0)
    model = _model(dict(type='CifarResNet', depth=20), 64) \
        if request.param == 'resnet20' else \
        _model(dict(type='MobileNetV2', widen_factor=0.5), 1280)
    pruner = ChannelPruner(input_shape=(3, 16, 16))
    pruner.prepare_from_supernet(model)
    pruner.model_name = request.param
    return pruner


@pytest.mark.parametrize('mode,target', [('uniform', 0.5), ('diff', 0.5),
                                         ('uniform', 0.7)])
def test_flops_targets_met_from_below_within_2_percent(pruner, mode,
                                                       target):
    assert pruner.divisor == DEFAULT_DIVISOR == 16
    scores = pruner.get_metric_local('L1Metric')
    full = pruner.flops_params({})[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        subnet = pruner.sample_subnet_flops(target, scores, mode=mode)
    said = [str(w.message) for w in caught]
    split = any('pruned too' in m for m in said)
    assert len(said) == int(split), said  # nothing missed
    # ResNet-20 keeps its 16-channel stage whole up to 56% removed
    assert split == (target == 0.7 and pruner.model_name == 'resnet20')
    assert pruner.max_flops_reduction() > 0.8
    reduction = 1 - pruner.flops_params(subnet)[0] / full
    assert target <= reduction <= target * 1.02, reduction
    assert not pruner.sampler.split_narrow  # only for that call
    for sp in pruner.prunable_spaces:
        k, n = len(subnet[sp.name]), sp.num_channels
        step = 8 if split and n < 32 else 16
        assert k % step == 0 or k == n, (sp.name, k)
        if n <= 16 and not split:
            assert k == n
