"""Block graph and removal: ResNet-CIFAR / CifarResNet / mmcls ResNet
(BasicBlock, Bottleneck) / MobileNetV2, shapes and FLOPs, targets, and the
one-line errors (the model left unchanged)."""
import copy

import pytest
import torch
from mmcls.models import build_classifier

import mmrazor_ext  # noqa: F401
from mmrazor_ext.adapters import trace_forward
from mmrazor_ext.fusion import (ShortcutBlock, check_target, choose_blocks,
                                find_blocks, remove_blocks, trace_graph)
from mmrazor_ext.utils import UserInputError
from mmrazor_ext.utils.tensor_compare import assert_close


def _cls(backbone, channels):
    return build_classifier(dict(
        type='ImageClassifier', backbone=backbone,
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10,
                  in_channels=channels))).eval()


MODELS = {  # name -> (model, blocks, transition blocks)
    'cifar_resnet20': (lambda: _cls(dict(type='CifarResNet', depth=20), 64),
                       9, 2),
    'resnet_cifar18': (lambda: _cls(dict(type='ResNet_CIFAR', depth=18),
                                    512), 8, 3),
    'resnet50': (lambda: _cls(dict(type='ResNet', depth=50), 2048), 16, 4),
    'mobilenetv2': (lambda: _cls(dict(type='MobileNetV2',
                                      widen_factor=0.5), 1280), 10, 0),
}
SHAPE = (3, 32, 32)


@pytest.mark.parametrize('name', list(MODELS))
def test_remove_every_free_block_keeps_shapes_and_counts_flops(name):
    build, num, transitions = MODELS[name]
    model = build()
    blocks = find_blocks(trace_graph(model, SHAPE))
    assert len(blocks) == num
    assert sum(b.transition for b in blocks) == transitions
    full = trace_graph(model, SHAPE).flops()
    x = torch.randn(2, *SHAPE)
    ref = trace_forward(model, x)
    names = [b.name for b in blocks]  # transitions too: their downsample
    small = remove_blocks(model, blocks, names, inplace=False)
    assert trace_forward(small, x).shape == ref.shape
    saved = sum(b.flops - b.shortcut_flops for b in blocks)
    assert trace_graph(small, SHAPE).flops() == full - saved
    kinds = {type(small.get_submodule(n)).__name__ for n in names}
    assert kinds <= {'Identity', 'ShortcutBlock'}
    assert (transitions > 0) == ('ShortcutBlock' in kinds)
    assert torch.equal(trace_forward(model, x), ref)  # original untouched


def test_identity_removal_is_exact_for_a_zero_branch():
    model = MODELS['cifar_resnet20'][0]()
    block = model.backbone.layer1[1]
    torch.nn.init.zeros_(block.norm2.weight)  # branch outputs 0
    torch.nn.init.zeros_(block.norm2.bias)
    x = torch.randn(2, *SHAPE)
    ref = trace_forward(model, x)
    blocks = find_blocks(trace_graph(model, SHAPE))
    remove_blocks(model, blocks, ['backbone.layer1.1'])
    assert_close(trace_forward(model, x), ref, rtol=1e-6)


def test_targets_pick_the_least_important():
    model = MODELS['cifar_resnet20'][0]()
    blocks = find_blocks(trace_graph(model, SHAPE))
    scores = {b.name: float(i) for i, b in enumerate(blocks)}
    scores['backbone.layer3.2'] = -1.0  # least important
    chosen = choose_blocks(blocks, scores, dict(blocks=7))
    assert chosen == ['backbone.layer3.2', 'backbone.layer1.0']
    full = trace_graph(model, SHAPE).flops()
    for f in (0.9, 0.6):
        names = choose_blocks(blocks, scores, dict(flops=f),
                              total_flops=full)
        small = remove_blocks(model, blocks, names, inplace=False)
        kept = trace_graph(small, SHAPE).flops() / full
        assert kept <= f  # and one block fewer would not be
        fewer = remove_blocks(model, blocks, names[:-1], inplace=False)
        assert trace_graph(fewer, SHAPE).flops() / full > f
    # latency: bisection over the order with a given measurement
    got = choose_blocks(blocks, scores, dict(latency=0.75),
                        latency_fraction=lambda ns: 1 - 0.1 * len(ns))
    assert got == chosen + ['backbone.layer1.1']  # 0.7 <= 0.75 < 0.8


@pytest.mark.parametrize('target, message', [
    (dict(blocks=10), 'deeper than the model'),
    (dict(blocks=1), 'too shallow to keep the stage transitions'),
    (dict(flops=1.5), 'fraction'),
    (dict(blocks=3, flops=0.5), 'exactly one of'),
])
def test_bad_targets(target, message):
    blocks = find_blocks(trace_graph(MODELS['cifar_resnet20'][0](), SHAPE))
    with pytest.raises(UserInputError, match=message):
        check_target(target, blocks, remove_transitions=False)


def test_unknown_block_and_no_block_models_leave_the_model_unchanged():
    model = MODELS['cifar_resnet20'][0]()
    before = copy.deepcopy(model.state_dict())
    blocks = find_blocks(trace_graph(model, SHAPE))
    with pytest.raises(UserInputError, match="'backbone.layer9.0' is not"):
        remove_blocks(model, blocks, ['backbone.layer1.0',
                                      'backbone.layer9.0'])
    assert model.state_dict().keys() == before.keys()
    assert not any(isinstance(m, ShortcutBlock) for m in model.modules())
    vgg = _cls(dict(type='VGG', depth=11, num_classes=-1), 512)
    with pytest.raises(UserInputError, match='no removable residual block'):
        find_blocks(trace_graph(vgg, SHAPE))
