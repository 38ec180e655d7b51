"""BN folding found from the traced graph: outputs equal over the pruner's
model zoo (every model with a conv / linear followed by BN; models with no
BatchNorm fold nothing), in float64 so the check is about the maths, plus
float32 on MobileNetV2.

The default run takes one model per way BN meets a conv (``QUICK``); the
bigger variants of the same blocks (ResNet-50/152, ResNeXt, SE-ResNet,
VGG, EfficientNetV2) run with ``MMRAZOR_EXT_ZOO=full``."""
import os

import pytest
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor_ext.adapters import trace_forward
from mmrazor_ext.fusion import find_conv_bn_pairs, fold_bn, trace_graph
from mmrazor_ext.testing.model_zoo import ALL_MODELS, calibrate_bn


def _randomise_bn(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, _BatchNorm) and m.weight is not None:
            m.weight.data.uniform_(0.5, 1.5, generator=g)
            m.bias.data.uniform_(-0.2, 0.2, generator=g)
    return model


FULL_ONLY = {'tv_vgg11_bn', 'tv_wide_resnet50_2', 'tv_resnet152',
             'tv_efficientnet_v2_s', 'mmcls_resnext50', 'tv_resnext50_32x4d',
             'mmcls_seresnet50', 'tv_resnet50', 'mmcls_resnetv1d50',
             'mmcls_resnet50', 'mmcls_resnetv1c50'}
NAMES = sorted(ALL_MODELS) if os.environ.get('MMRAZOR_EXT_ZOO') == 'full' \
    else sorted(set(ALL_MODELS) - FULL_ONLY)


@pytest.mark.parametrize('name', NAMES)
def test_fold_equal_over_zoo(name):
    build, shape = ALL_MODELS[name]
    torch.manual_seed(0)
    model = build()
    bns = sum(isinstance(m, _BatchNorm) for m in model.modules())
    if not bns:  # transformers, ConvNeXt, SqueezeNet, AlexNet
        assert find_conv_bn_pairs(trace_graph(model, shape), model) == []
        return
    model = _randomise_bn(calibrate_bn(model, shape)).double()
    x = torch.randn(2, *shape, dtype=torch.float64)
    with torch.no_grad():
        ref = trace_forward(model, x)
    folded, pairs = fold_bn(model, shape, inplace=True)
    assert pairs, 'no conv -> BN pair found'
    left = sum(isinstance(m, _BatchNorm) for m in folded.modules())
    assert left == bns - len(pairs)
    with torch.no_grad():
        out = trace_forward(folded.eval(), x)
    assert (out - ref).abs().max() <= 1e-4 * ref.abs().max()


def test_fold_float32_and_not_inplace():
    build, shape = ALL_MODELS['mmcls_mobilenetv2']
    model = calibrate_bn(build(), shape)
    x = torch.randn(4, *shape)
    with torch.no_grad():
        ref = trace_forward(model, x)
    folded, pairs = fold_bn(model, shape)
    assert len(pairs) == 52  # the original keeps its BNs
    assert sum(isinstance(m, _BatchNorm) for m in model.modules()) == 52
    with torch.no_grad():
        out = trace_forward(folded, x)
    assert (out - ref).abs().max() <= 1e-4 * ref.abs().max()


class _Shared(nn.Module):
    """conv output read by BN and by a second consumer; a BN after a
    conv called twice; a BN after a non-conv op: none of them folds."""

    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)
        self.c2, self.b2 = nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4)
        self.b3 = nn.BatchNorm2d(4)
        self.c3, self.b4 = nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        y = self.c1(x)
        y = self.b1(y) + y  # c1's output also read by the add
        y = self.b2(self.c2(self.c2(y)))  # c2 runs twice
        y = self.b3(torch.relu(y))
        y = self.b4(self.c3(y))  # the one foldable pair
        return self.fc(y.mean((2, 3)))


def test_only_graph_pairs_fold():
    model = _Shared().eval()
    assert find_conv_bn_pairs(trace_graph(model, (3, 8, 8)),
                              model) == [('c3', 'b4')]
