"""Layer merging (DepthShrinker): the merged block's outputs equal the
linearised block's (inverted residuals with and without the identity,
a Bottleneck with the identity as a kernel), the FLOPs rule, and the
errors for chains that cannot merge."""
import copy

import pytest
import torch
from mmcls.models import build_classifier
from mmcls.models.backbones.resnet import BasicBlock, Bottleneck
from torch.nn.modules.batchnorm import _BatchNorm

import mmrazor_ext  # noqa: F401
from mmrazor_ext.adapters import trace_forward
from mmrazor_ext.fusion import (ChainInfo, LinearChainBlock,
                                MergedConvBlock, find_chains, linearize,
                                merge_block, merge_model, trace_graph)
from mmrazor_ext.utils import UserInputError

SHAPE = (3, 32, 32)


def _random_bn(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5, generator=g)
            m.running_var.uniform_(0.5, 2.0, generator=g)
            m.weight.data.uniform_(0.5, 1.5, generator=g)
            m.bias.data.uniform_(-0.3, 0.3, generator=g)
    return model.eval()


def _close(a, b):
    return (a - b).abs().max() <= 1e-4 * b.abs().max()


@pytest.fixture(scope='module')
def mobilenet():
    torch.manual_seed(0)
    return build_classifier(dict(
        type='ImageClassifier',
        backbone=dict(type='MobileNetV2', widen_factor=0.5),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10,
                  in_channels=1280))).eval()


def test_inverted_residuals_merge_exactly(mobilenet):
    model = copy.deepcopy(mobilenet)
    chains = find_chains(trace_graph(model, SHAPE), model)
    # every inverted residual but the first (expand 1: dw-pw merges into
    # a dense 3x3 with more FLOPs) passes the no-more-FLOPs rule
    assert len(chains) == 16 and all(c.merged_flops <= c.flops
                                     for c in chains)
    linearize(model, chains)
    assert not any(isinstance(m, torch.nn.ReLU6) for n, m in
                   model.named_modules() if n.startswith(chains[0].name))
    _random_bn(model)
    x = torch.randn(3, *SHAPE)
    with torch.no_grad():
        ref = trace_forward(model, x)
    merged = merge_model(copy.deepcopy(model), SHAPE)
    assert sum(isinstance(m, MergedConvBlock)
               for m in merged.modules()) == 16
    with torch.no_grad():
        out = trace_forward(merged, x)
    assert _close(out, ref)
    before = trace_graph(model, SHAPE)
    after = trace_graph(merged, SHAPE)
    assert after.flops() < before.flops()
    assert after.depth() == before.depth() - 2 * 16  # 3 convs -> 1
    # another input size: the border bias is recomputed
    x2 = torch.randn(2, 3, 24, 24)
    with torch.no_grad():
        assert _close(trace_forward(merged, x2), trace_forward(model, x2))


def test_bottleneck_with_identity_as_kernel():
    block = _random_bn(Bottleneck(64, 64))  # 1x1 64->16, 3x3, 1x1 16->64
    parts = [block.conv1, block.norm1, block.conv2, block.norm2,
             block.conv3, block.norm3]
    lin = LinearChainBlock(torch.nn.Sequential(*parts), identity=True,
                           act=block.relu).eval()
    x = torch.randn(2, 64, 8, 8)
    merged = merge_block(lin, (64, 8, 8))
    with torch.no_grad():
        assert _close(merged(x), lin(x))
    assert merged.conv.kernel_size == (3, 3)
    # the FLOPs rule: a dense 3x3 64->64 costs more than the chain
    model = torch.nn.Sequential(block)
    assert find_chains(trace_graph(model, (64, 8, 8)), model) == []


def test_chains_that_cannot_merge():
    basic = BasicBlock(16, 16).eval()
    with pytest.raises(UserInputError, match='nonlinearity between'):
        merge_block(basic, (16, 8, 8))
    lin = LinearChainBlock(torch.nn.Sequential(
        basic.conv1, basic.norm1, basic.conv2, basic.norm2), identity=True)
    with pytest.raises(UserInputError, match='more than one spatial conv'):
        merge_block(lin, (16, 8, 8))
    with pytest.raises(UserInputError, match='not a mergeable block'):
        linearize(torch.nn.Sequential(basic), [ChainInfo('0', '0', 1, 1)])
