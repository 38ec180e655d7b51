"""Every mmcls backbone family with a config: which zoo model stands for
it, and the families the first zoo lacked.

A family is a backbone ``type`` used by a config of the installed mmcls
(:func:`config_backbone_types` reads them from the config files).
Transformer-like families are built at a fraction of their size (the same
blocks, 1-2 per stage, narrow) at 64x64, so a trace takes about a second.
"""
import glob
import os
import re
from typing import Dict, Set

from .model_zoo import _cls as cls_model


def _mmcls_config_dir() -> str:
    import mmcls
    return os.path.join(os.path.dirname(mmcls.__file__), '.mim', 'configs')


_BACKBONE = re.compile(r"backbone\s*=\s*dict\(\s*type\s*=\s*['\"](\w+)['\"]")


def config_backbone_types(config_dir: str = None) -> Dict[str, Set[str]]:
    """``{backbone type: config folders using it}`` over the mmcls configs
    (read as text: ``backbone=dict(type='...')``; configs that only
    override a base's backbone name no type and add nothing)."""
    config_dir = config_dir or _mmcls_config_dir()
    found: Dict[str, Set[str]] = {}
    for path in glob.glob(os.path.join(config_dir, '**', '*.py'),
                          recursive=True):
        with open(path) as f:
            text = f.read()
        folder = os.path.relpath(path, config_dir).split(os.sep)[0]
        for t in _BACKBONE.findall(text):
            found.setdefault(t, set()).add(folder)
    return found


# Families the first zoo (model_zoo.MMCLS_MODELS / TRANSFORMER_MODELS)
# lacked: name -> (builder, input (C, H, W)).
FAMILY_MODELS = {
    'mmcls_cspdarknet53': (lambda: cls_model(
        dict(type='CSPDarkNet', depth=53), 1024), (3, 64, 64)),
    'mmcls_cspresnet50': (lambda: cls_model(
        dict(type='CSPResNet', depth=50), 1024), (3, 64, 64)),
    'mmcls_cspresnext50': (lambda: cls_model(
        dict(type='CSPResNeXt', depth=50), 2048), (3, 64, 64)),
    'mmcls_resnest50': (lambda: cls_model(
        dict(type='ResNeSt', depth=50), 2048), (3, 64, 64)),
    'mmcls_seresnext50': (lambda: cls_model(
        dict(type='SEResNeXt', depth=50, groups=32, width_per_group=4),
        2048), (3, 32, 32)),
    'mmcls_resnet18_cifar': (lambda: cls_model(
        dict(type='ResNet_CIFAR', depth=18), 512), (3, 32, 32)),
    'mmcls_lenet5': (lambda: cls_model(
        dict(type='LeNet5', num_classes=10), None, neck=None,
        head_type='ClsHead'), (1, 32, 32)),
    'mmcls_van': (lambda: cls_model(dict(
        type='VAN', arch=dict(embed_dims=[16, 32, 48, 64],
                              depths=[1, 1, 1, 1], ffn_ratios=[4, 4, 4, 4])),
        64), (3, 64, 64)),
    'mmcls_poolformer': (lambda: cls_model(dict(
        type='PoolFormer', arch=dict(layers=[1, 1, 1, 1],
                                     embed_dims=[16, 32, 48, 64],
                                     mlp_ratios=[4, 4, 4, 4],
                                     layer_scale_init_value=1e-5)),
        64), (3, 64, 64)),
    'mmcls_convmixer': (lambda: cls_model(dict(
        type='ConvMixer', arch=dict(embed_dims=64, depth=2, patch_size=7,
                                    kernel_size=9)), 64), (3, 64, 64)),
    'mmcls_mlp_mixer': (lambda: cls_model(dict(
        type='MlpMixer', arch=dict(embed_dims=64, num_layers=2,
                                   tokens_mlp_dims=32, channels_mlp_dims=128),
        img_size=64, patch_size=16), 64,
        neck=dict(type='GlobalAveragePooling', dim=1)), (3, 64, 64)),
    'mmcls_repmlp': (lambda: cls_model(dict(
        type='RepMLPNet', arch=dict(channels=[16, 32, 48, 64],
                                    depths=[1, 1, 1, 1],
                                    sharesets_nums=[1, 2, 4, 8]),
        img_size=64, reparam_conv_kernels=(1, 3)), 64), (3, 64, 64)),
    'mmcls_hornet': (lambda: cls_model(dict(
        type='HorNet', arch=dict(base_dim=16, depths=[1, 1, 1, 1],
                                 orders=[2, 3, 4, 5],
                                 dw_cfg=[dict(type='DW', kernel_size=7)] * 4)),
        128, neck=None), (3, 64, 64)),
    'mmcls_efficientformer': (lambda: cls_model(dict(
        type='EfficientFormer', arch=dict(layers=[1, 1, 1, 2],
                                          embed_dims=[16, 32, 48, 64],
                                          downsamples=[False, True, True,
                                                       True],
                                          vit_num=1)),
        64, neck=dict(type='GlobalAveragePooling', dim=1),
        head_type='EfficientFormerClsHead', distillation=False),
        # its attention biases are for a 7x7 last stage: 224x224 only
        (3, 224, 224)),
    'mmcls_conformer': (lambda: cls_model(dict(
        type='Conformer', arch=dict(embed_dims=64, channel_ratio=1,
                                    num_heads=4, depths=3),
        base_channels=16), [64, 64], neck=None,
        head_type='ConformerHead'), (3, 64, 64)),
    'mmcls_mvit': (lambda: cls_model(dict(
        type='MViT', arch=dict(embed_dims=32, num_layers=3, num_heads=1,
                               downscale_indices=[1, 2]),
        img_size=64), 128), (3, 64, 64)),
    'mmcls_swin_v2': (lambda: cls_model(dict(
        type='SwinTransformerV2', arch=dict(
            embed_dims=32, depths=[2, 2], num_heads=[2, 4],
            extra_norm_every_n_blocks=0),
        img_size=64, window_size=4, out_indices=(1, ), drop_path_rate=0.0),
        64), (3, 64, 64)),
    'mmcls_twins_svt': (lambda: cls_model(dict(
        type='SVT', arch=dict(embed_dims=[16, 32], depths=[1, 1],
                              num_heads=[1, 2], patch_sizes=[4, 2],
                              strides=[4, 2], mlp_ratios=[2, 2],
                              sr_ratios=[2, 1], window_sizes=[4, 4]),
        out_indices=(1, )), 32), (3, 64, 64)),
}

# backbone type of a config -> the zoo model standing for it
FAMILY_OF_TYPE = {
    'ResNet': 'mmcls_resnet18', 'ResNetV1c': 'mmcls_resnetv1c50',
    'ResNetV1d': 'mmcls_resnetv1d50', 'ResNeXt': 'mmcls_resnext50',
    'SEResNet': 'mmcls_seresnet50', 'SEResNeXt': 'mmcls_seresnext50',
    'Res2Net': 'mmcls_res2net50', 'ResNet_CIFAR': 'mmcls_resnet18_cifar',
    'ResNeSt': 'mmcls_resnest50', 'MobileNetV2': 'mmcls_mobilenetv2',
    'MobileNetV3': 'mmcls_mobilenetv3', 'ShuffleNetV1': 'mmcls_shufflenetv1',
    'ShuffleNetV2': 'mmcls_shufflenetv2', 'RegNet': 'mmcls_regnet',
    'VGG': 'mmcls_vgg11bn', 'DenseNet': 'mmcls_densenet121',
    'EfficientNet': 'mmcls_efficientnet_b0',
    'ConvNeXt': 'mmcls_convnext_tiny', 'RepVGG': 'mmcls_repvgg_a0',
    'HRNet': 'mmcls_hrnet_w18', 'VisionTransformer': 'mmcls_vit',
    'DistilledVisionTransformer': 'mmcls_deit',
    'SwinTransformer': 'mmcls_swin', 'SwinTransformerV2': 'mmcls_swin_v2',
    'PCPVT': 'mmcls_twins', 'SVT': 'mmcls_twins_svt',
    'T2T_ViT': 'mmcls_t2t_vit', 'TNT': 'mmcls_tnt',
    'CSPDarkNet': 'mmcls_cspdarknet53', 'CSPResNet': 'mmcls_cspresnet50',
    'CSPResNeXt': 'mmcls_cspresnext50', 'LeNet5': 'mmcls_lenet5',
    'VAN': 'mmcls_van', 'PoolFormer': 'mmcls_poolformer',
    'ConvMixer': 'mmcls_convmixer', 'MlpMixer': 'mmcls_mlp_mixer',
    'RepMLPNet': 'mmcls_repmlp', 'HorNet': 'mmcls_hornet',
    'EfficientFormer': 'mmcls_efficientformer',
    'Conformer': 'mmcls_conformer', 'MViT': 'mmcls_mvit',
}


def pruner_zoo() -> dict:
    """Every zoo model: ``model_zoo.ALL_MODELS`` and :data:`FAMILY_MODELS`
    (name -> (builder, input shape))."""
    from .model_zoo import ALL_MODELS
    return {**ALL_MODELS, **FAMILY_MODELS}

# Most parameters kept by a 50% uniform L1 prune (as model_zoo's
# KEPT_PARAMS_MAX; about 0.25 prunes every width). Why some stay higher:
FAMILY_KEPT_PARAMS_MAX = {
    'mmcls_seresnext50': 0.26, 'mmcls_resnet18_cifar': 0.26,
    'mmcls_lenet5': 0.26, 'mmcls_van': 0.30, 'mmcls_poolformer': 0.27,
    'mmcls_conformer': 0.27, 'mmcls_twins_svt': 0.30,
    # depthwise 9x9 kernels: their weights shrink with the width, not its
    # square
    'mmcls_convmixer': 0.44,
    # CSP stages split their input channels in two (a slice): each stage's
    # wide conv and the first block's residual stay whole
    'mmcls_cspdarknet53': 0.44, 'mmcls_cspresnet50': 0.35,
    'mmcls_cspresnext50': 0.45,
    # split attention views its channels into radix groups
    'mmcls_resnest50': 0.44,
    # their attention views q, k, v into heads (not an attention class the
    # pruner knows): the projections' widths stay whole
    'mmcls_efficientformer': 0.40, 'mmcls_mvit': 0.34,
    # token-mixing MLPs read the tokens dim: the residual stream is whole
    'mmcls_mlp_mixer': 0.80,
    # RepMLP views its channels into partitions
    'mmcls_repmlp': 0.80,
    # the gated convolution splits its channels by order
    'mmcls_hornet': 0.74,
    # Swin V2's attention builds its qkv bias by concatenation and runs
    # F.linear (not an attention class the pruner knows): the residual
    # streams are whole
    'mmcls_swin_v2': 0.73,
}
