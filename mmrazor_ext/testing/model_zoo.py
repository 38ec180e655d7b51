"""Models the pruner is checked on: mmcls classifiers and torchvision CNNs.

Each entry builds a freshly initialised model (no downloads) and names the
input size to trace and test it with (small, to keep the suite fast).
Used by the tests (``tests/pruners``, ``tests/fusion``) and by
``tools/benchmarks/pruner_speed.py`` and ``zoo_coverage.py``.
"""
from contextlib import contextmanager

import torch
import torchvision
from mmcls.models import build_classifier

import mmrazor_ext  # noqa: F401  (registers CifarResNet)
from mmrazor_ext.utils.tensor_compare import output_tensors

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


def _zero_head_init(model):
    """torchvision's ViT starts its head at zero (outputs all 0): give it
    small random weights so output comparisons mean something."""
    for m in model.modules():
        if isinstance(m, torch.nn.Linear) and not m.weight.any():
            torch.nn.init.normal_(m.weight, std=0.02)
    return model


def _tv_swin(v2=False):
    from torchvision.models import swin_transformer as sw
    kw = dict(block=sw.SwinTransformerBlockV2,
              downsample_layer=sw.PatchMergingV2) if v2 else {}
    return torchvision.models.SwinTransformer(
        patch_size=[4, 4], embed_dim=32, depths=[2, 2], num_heads=[2, 4],
        window_size=[4, 4], num_classes=10, **kw)


# Transformer families at a fraction of their size (same blocks: 2 layers
# or 2 stages, 32x32 inputs) so a trace takes about a second.
_VIT = dict(embed_dims=64, num_layers=2, num_heads=4, feedforward_channels=128)
TRANSFORMER_MODELS = {
    'tv_vit': (lambda: _zero_head_init(torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=4,
        hidden_dim=64, mlp_dim=128, num_classes=10)), (3, 32, 32)),
    'tv_swin': (_tv_swin, (3, 32, 32)),
    'tv_swin_v2': (lambda: _tv_swin(v2=True), (3, 32, 32)),
    'tv_maxvit': (lambda: torchvision.models.MaxVit(
        input_size=(32, 32), stem_channels=16, partition_size=2,
        block_channels=[32, 64], block_layers=[1, 1], head_dim=8,
        stochastic_depth_prob=0.0, num_classes=10), (3, 32, 32)),
    'mmcls_vit': (lambda: _cls(dict(
        type='VisionTransformer', arch=_VIT, img_size=32, patch_size=8),
        64, neck=None, head_type='VisionTransformerClsHead'), (3, 32, 32)),
    'mmcls_deit': (lambda: _cls(dict(
        type='DistilledVisionTransformer', arch=_VIT, img_size=32,
        patch_size=8), 64, neck=None, head_type='DeiTClsHead'),
        (3, 32, 32)),
    'mmcls_swin': (lambda: _cls(dict(
        type='SwinTransformer', arch=dict(embed_dims=32, depths=[2, 2],
                                          num_heads=[2, 4]),
        img_size=32, window_size=4, out_indices=(1, )), 64), (3, 32, 32)),
    'mmcls_twins': (lambda: _cls(dict(
        type='PCPVT', arch=dict(embed_dims=[16, 32], depths=[1, 1],
                                num_heads=[1, 2], patch_sizes=[4, 2],
                                strides=[4, 2], mlp_ratios=[2, 2],
                                sr_ratios=[2, 1]),
        out_indices=(1, )), 32), (3, 32, 32)),
    'mmcls_t2t_vit': (lambda: _cls(dict(
        type='T2T_ViT', img_size=32, embed_dims=64, num_layers=2,
        t2t_cfg=dict(token_dims=16, use_performer=False),
        layer_cfgs=dict(num_heads=4, feedforward_channels=128)), 64,
        neck=None, head_type='VisionTransformerClsHead'), (3, 32, 32)),
    'mmcls_tnt': (lambda: _cls(dict(
        type='TNT', arch=dict(embed_dims_outer=64, embed_dims_inner=16,
                              num_layers=2, num_heads_outer=4,
                              num_heads_inner=2),
        img_size=32, patch_size=8), 64, neck=None), (3, 32, 32)),
}

ALL_MODELS = {**MMCLS_MODELS, **TORCHVISION_MODELS, **TRANSFORMER_MODELS}

# Most parameters (``model.parameters()`` of the exported model over the
# unpruned one) kept by a 50% uniform L1 prune, per family of issue 11
# (about 0.25 prunes every width). Families still partly whole say why.
KEPT_PARAMS_MAX = {
    'tv_convnext_tiny': 0.30, 'mmcls_convnext_tiny': 0.30,
    'tv_regnet_x_400mf': 0.30, 'tv_regnet_y_400mf': 0.30,
    'mmcls_regnet': 0.30, 'tv_resnext50_32x4d': 0.30,
    'mmcls_resnext50': 0.30,
    'tv_vit': 0.30, 'tv_swin': 0.30, 'tv_maxvit': 0.30, 'mmcls_vit': 0.30,
    'mmcls_deit': 0.31, 'mmcls_swin': 0.30,
    # cosine attention's logit scale and the continuous position MLP are
    # per head: kept whole
    'tv_swin_v2': 0.33,
    # the channel shuffle ties each bottleneck into one unit: only the
    # residual streams prune
    'mmcls_shufflenetv1': 0.52,
    'mmcls_twins': 0.30,
    # a fixed position table (a buffer) and Unfold token merging; in-place
    # updates of TNT's outer tokens
    'mmcls_t2t_vit': 0.83, 'mmcls_tnt': 0.72,
}
# Pruned only in part (see above): FLOPs drop, by less than ratio / 3.
PARTLY_PRUNED = {'mmcls_t2t_vit'}

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

    from mmrazor_ext.adapters import trace_forward as default_forward
    forward = forward or default_forward
    ref = next(iter(model.parameters()))
    x = torch.randn(1, *shape, dtype=ref.dtype, device=ref.device)
    counter = FlopCounterMode(display=False)
    with sdpa_kernel(SDPBackend.MATH), counter, torch.enable_grad():
        forward(model.eval(), x)
    return counter.get_total_flops() // 2


@contextmanager
def _all_trainable(model):
    """Every parameter requires grad for the block (frozen stages too:
    PoolFormer freezes its patch embedding by default)."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in flags:
        p.requires_grad_(True)
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


def _params_reached(model, out) -> int:
    """Entries of the parameters that get a gradient from every output
    tensor (Conformer's head gives two)."""
    sum(t.float().sum() for t in output_tensors(out)
        if t.requires_grad).backward()
    n = sum(p.numel() for p in model.parameters() if p.grad is not None)
    model.zero_grad(set_to_none=True)
    return n


def used_param_count(model, shape, forward=None):
    """Entries of the parameters one forward reads: those that get a
    gradient from the output."""
    from mmrazor_ext.adapters import trace_forward as default_forward
    forward = forward or default_forward
    ref = next(iter(model.parameters()))
    x = torch.randn(2, *shape, dtype=ref.dtype, device=ref.device)
    model.eval().zero_grad(set_to_none=True)
    with torch.enable_grad(), _all_trainable(model):
        return _params_reached(model, forward(model, x))


def reference_counts(model, shape, forward=None):
    """``(reference_macs, used_param_count)`` from one batch-1 forward and
    its backward (cheaper than the two calls)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from mmrazor_ext.adapters import trace_forward as default_forward
    forward = forward or default_forward
    ref = next(iter(model.parameters()))
    x = torch.randn(1, *shape, dtype=ref.dtype, device=ref.device)
    model.eval().zero_grad(set_to_none=True)
    counter = FlopCounterMode(display=False)
    with torch.enable_grad(), _all_trainable(model):
        with sdpa_kernel(SDPBackend.MATH), counter:
            out = forward(model, x)
        return counter.get_total_flops() // 2, _params_reached(model, out)
