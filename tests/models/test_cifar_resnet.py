import pytest
import torch
import torchvision
from mmcls.models import build_backbone, build_classifier

import mmrazor_ext  # noqa: F401

# Backbone + 10-class linear head. The three-stage nets match the CIFAR
# ResNets of He et al. (2016) (akamaster/pytorch_resnet_cifar10 lists
# option-A counts: 269,722 / 464,154 / 658,586 / 853,018 / 1,727,962 /
# 19,421,274); mmcls's 1x1 conv + BN projection shortcuts add 2,752.
CIFAR_PARAMS = {20: 272_474, 32: 466_906, 44: 661_338, 56: 855_770,
                110: 1_730_714, 1202: 19_424_026}
IMAGENET_DEPTHS = {18: 'resnet18', 34: 'resnet34', 50: 'resnet50',
                   101: 'resnet101', 152: 'resnet152'}


def classifier(depth, in_channels):
    return build_classifier(dict(
        type='ImageClassifier',
        backbone=dict(type='CifarResNet', depth=depth),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10,
                  in_channels=in_channels)))


def n_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('depth', sorted(CIFAR_PARAMS))
def test_cifar_depths(depth):
    model = classifier(depth, 64)
    model.eval()
    assert n_params(model) == CIFAR_PARAMS[depth]
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        feats = model.backbone(x)
        assert [f.shape for f in feats] == [(2, 64, 8, 8)]
        assert model.simple_test(x, post_process=False).shape == (2, 10)


@pytest.mark.parametrize('depth', sorted(IMAGENET_DEPTHS))
def test_imagenet_depths_with_3x3_stem(depth):
    # Counts and shapes need no values. Building these nets is mostly
    # random init of their large weights, so all but ResNet-18 are built
    # and run on the meta device (about 4x faster); ResNet-18 runs for real,
    # so a forward that only fails on data is still caught. The CIFAR
    # depths above stay on the CPU: their weights are small and a meta
    # forward is slower than a real one at 32x32.
    device = 'cpu' if depth == min(IMAGENET_DEPTHS) else 'meta'
    with torch.device(device):
        backbone = build_backbone(dict(type='CifarResNet', depth=depth))
        reference = getattr(torchvision.models, IMAGENET_DEPTHS[depth])()
        x = torch.rand(1, 3, 32, 32)
    backbone.eval()  # mmcls's ResNet.train returns None: no chaining
    # torchvision's blocks, a 3x3 stem conv in place of the 7x7 one, no fc
    expected = n_params(reference) - n_params(reference.fc) \
        - 7 * 7 * 3 * 64 + 3 * 3 * 3 * 64
    assert n_params(backbone) == expected
    width = 512 * (4 if depth >= 50 else 1)
    with torch.no_grad():
        feats = backbone(x)
    assert feats[0].device.type == device
    # stride-1 stem, no max-pool: 32 -> 4 after three stride-2 stages
    assert [f.shape for f in feats] == [(1, width, 4, 4)]


def test_out_indices_and_bad_args():
    backbone = build_backbone(
        dict(type='CifarResNet', depth=20, out_indices=(0, 1, 2)))
    shapes = [f.shape[1:] for f in backbone(torch.rand(1, 3, 32, 32))]
    assert shapes == [(16, 32, 32), (32, 16, 16), (64, 8, 8)]
    with pytest.raises(KeyError, match='invalid depth 21'):
        build_backbone(dict(type='CifarResNet', depth=21))
    with pytest.raises(ValueError, match='deep_stem'):
        build_backbone(dict(type='CifarResNet', depth=20, deep_stem=True))


def test_mmcls_resnet_cifar_untouched():
    from mmcls.models.backbones import ResNet_CIFAR
    assert build_backbone(dict(type='ResNet_CIFAR', depth=18)).__class__ \
        is ResNet_CIFAR
