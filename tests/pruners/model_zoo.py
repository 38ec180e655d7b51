"""Models the pruner is checked on: mmcls classifiers and torchvision CNNs.

Each entry builds a freshly initialised model (no downloads) and names the
input size to trace and test it with (small, to keep the suite fast).
"""
import torch
import torchvision
from mmcls.models import build_classifier

import mmrazor_ext  # noqa: F401  (registers CifarResNet)

GAP = dict(type='GlobalAveragePooling')


def _cls(backbone, in_channels, neck=GAP, head_type='LinearClsHead',
         **head):
    if head_type != 'ClsHead':
        head.update(num_classes=10, in_channels=in_channels)
    cfg = dict(type='ImageClassifier', backbone=backbone, neck=neck,
               head=dict(type=head_type, **head))
    return build_classifier(cfg)


# name -> (builder, input (C, H, W))
MMCLS_MODELS = {
    'mmcls_resnet18': (lambda: _cls(dict(type='ResNet', depth=18), 512),
                       (3, 32, 32)),
    'mmcls_resnet50': (lambda: _cls(dict(type='ResNet', depth=50), 2048),
                       (3, 32, 32)),
    'mmcls_resnetv1c50': (lambda: _cls(dict(type='ResNetV1c', depth=50),
                                       2048), (3, 32, 32)),
    'mmcls_resnetv1d50': (lambda: _cls(dict(type='ResNetV1d', depth=50),
                                       2048), (3, 32, 32)),
    'mmcls_resnext50': (lambda: _cls(dict(
        type='ResNeXt', depth=50, groups=32, width_per_group=4), 2048),
        (3, 32, 32)),
    'mmcls_seresnet50': (lambda: _cls(dict(type='SEResNet', depth=50), 2048),
                         (3, 32, 32)),
    'mmcls_res2net50': (lambda: _cls(dict(
        type='Res2Net', depth=50, scales=4, base_width=26), 2048),
        (3, 32, 32)),
    'mmcls_cifar_resnet20': (lambda: _cls(dict(type='CifarResNet',
                                               depth=20), 64), (3, 32, 32)),
    'mmcls_cifar_resnet56': (lambda: _cls(dict(type='CifarResNet',
                                               depth=56), 64), (3, 32, 32)),
    'mmcls_mobilenetv2': (lambda: _cls(dict(type='MobileNetV2'), 1280),
                          (3, 32, 32)),
    'mmcls_mobilenetv3': (lambda: _cls(
        dict(type='MobileNetV3', arch='small'), 576,
        head_type='StackedLinearClsHead', mid_channels=[1024],
        act_cfg=dict(type='HSwish')), (3, 32, 32)),
    'mmcls_shufflenetv1': (lambda: _cls(dict(type='ShuffleNetV1', groups=3),
                                        960), (3, 32, 32)),
    'mmcls_shufflenetv2': (lambda: _cls(dict(type='ShuffleNetV2'), 1024),
                           (3, 32, 32)),
    'mmcls_regnet': (lambda: _cls(dict(type='RegNet', arch='regnetx_400mf'),
                                  384), (3, 32, 32)),
    # without its 224x224-only classifier, so small inputs work
    'mmcls_vgg11bn': (lambda: _cls(dict(
        type='VGG', depth=11, norm_cfg=dict(type='BN'), num_classes=-1),
        512), (3, 32, 32)),
    'mmcls_densenet121': (lambda: _cls(dict(type='DenseNet', arch='121'),
                                       1024), (3, 32, 32)),
    'mmcls_efficientnet_b0': (lambda: _cls(dict(type='EfficientNet',
                                                arch='b0'), 1280),
                              (3, 32, 32)),
    'mmcls_convnext_tiny': (lambda: _cls(dict(
        type='ConvNeXt', arch='tiny', gap_before_final_norm=True), 768,
        neck=None), (3, 32, 32)),
    'mmcls_repvgg_a0': (lambda: _cls(dict(type='RepVGG', arch='A0'), 1280),
                        (3, 32, 32)),
    'mmcls_hrnet_w18': (lambda: _cls(
        dict(type='HRNet', arch='w18'), 2048,
        neck=[dict(type='HRFuseScales', in_channels=(18, 36, 72, 144)),
              GAP]), (3, 32, 32)),
}

_TV = ['resnet18', 'resnet50', 'resnet152', 'resnext50_32x4d',
       'wide_resnet50_2', 'mobilenet_v2', 'mobilenet_v3_small',
       'mobilenet_v3_large', 'densenet121', 'shufflenet_v2_x1_0',
       'efficientnet_b0', 'efficientnet_v2_s', 'regnet_x_400mf',
       'regnet_y_400mf', 'googlenet', 'inception_v3', 'squeezenet1_1',
       'mnasnet1_0', 'convnext_tiny', 'vgg11_bn', 'alexnet']


def _tv(name):
    def build():
        kw = dict(weights=None, num_classes=10)
        if name in ('googlenet', 'inception_v3'):
            kw.update(aux_logits=False, init_weights=True)
        return getattr(torchvision.models, name)(**kw)
    return build


_TV_SIZES = {'inception_v3': (3, 80, 80), 'alexnet': (3, 64, 64)}
TORCHVISION_MODELS = {
    f'tv_{n}': (_tv(n), _TV_SIZES.get(n, (3, 32, 32))) for n in _TV}

ALL_MODELS = {**MMCLS_MODELS, **TORCHVISION_MODELS}

# Models the pruner cannot shrink yet, with the reason (see docs/pruner.md).
XFAIL = {}


def calibrate_bn(model, shape, seed=0):
    """Fresh models have unit BN statistics, which lets activations explode
    or vanish; one train-mode pass on random data sets them from the data so
    outputs are O(1) and output comparisons mean something."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, *shape, generator=g)
    moms = {}
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            moms[m] = m.momentum
            m.momentum = 1.0
    model.train()
    with torch.no_grad():
        fwd = model.forward_dummy if hasattr(model, 'forward_dummy') \
            else model
        fwd(x)
    for m, mom in moms.items():
        m.momentum = mom
    model.eval()
    return model


def reference_macs(model, shape, forward=None):
    """Multiply-accumulates of one sample by torch's own counter
    (``FlopCounterMode`` total / 2), as an independent check of the
    pruner's count. Attention runs the math kernel (which the counter
    sees as matmuls) with grad enabled (so ``nn.MultiheadAttention`` does
    not take its fused inference path, which the counter does not count)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from mmrazor_ext.pruners.graph_tracer import default_forward
    forward = forward or default_forward
    ref = next(iter(model.parameters()))
    x = torch.randn(1, *shape, dtype=ref.dtype, device=ref.device)
    counter = FlopCounterMode(display=False)
    with sdpa_kernel(SDPBackend.MATH), counter, torch.enable_grad():
        forward(model.eval(), x)
    return counter.get_total_flops() // 2


def used_param_count(model, shape, forward=None):
    """Entries of the parameters one forward reads: those that get a
    gradient from the output."""
    from mmrazor_ext.pruners.graph_tracer import default_forward
    forward = forward or default_forward
    ref = next(iter(model.parameters()))
    x = torch.randn(2, *shape, dtype=ref.dtype, device=ref.device)
    model.eval().zero_grad(set_to_none=True)
    with torch.enable_grad():
        out = forward(model, x)
        out = out if isinstance(out, torch.Tensor) else out[0]
        out.float().sum().backward()
    n = sum(p.numel() for p in model.parameters() if p.grad is not None)
    model.zero_grad(set_to_none=True)
    return n
