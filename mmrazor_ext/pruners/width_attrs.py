"""Model attributes holding a pruned width that the forward reads, set
after export from the sliced layers."""
from torch import nn


def _vit_width(m):
    m.hidden_dim = int(m.conv_proj.out_channels)


def _mmcls_swin_width(m):
    # the forward views each output with num_features[i]
    for i in range(len(m.num_features)):
        norm = getattr(m, f'norm{i}', None)
        if isinstance(norm, nn.LayerNorm):
            m.num_features[i] = int(norm.normalized_shape[0])


def _mmcls_swin_v2_stage_width(m):
    # SwinTransformerV2's forward views each stage output with
    # stage.out_channels (it has no num_features)
    m.out_channels = int(m.blocks[-1].norm1.normalized_shape[-1])


def _van_block_width(m):
    # VAN's forward reshapes each stage's output with block.out_channels
    m.out_channels = int(m.attn.proj_1.in_channels)


def _width_fixers():
    """``{class: fix(module)}``: models whose forward reads a pruned width
    from an attribute (torchvision's ViT reshapes its patches with
    ``hidden_dim``, mmcls's Swin views its outputs with
    ``num_features``, its Swin V2 with each stage's ``out_channels``,
    mmcls's VAN its stage outputs with each block's
    ``out_channels``)."""
    table = {}
    try:
        from torchvision.models import VisionTransformer
        table[VisionTransformer] = _vit_width
    except ImportError:  # pragma: no cover
        pass
    try:
        from mmcls.models.backbones import SwinTransformer
        from mmcls.models.backbones.swin_transformer_v2 import \
            SwinBlockV2Sequence
        table[SwinTransformer] = _mmcls_swin_width
        table[SwinBlockV2Sequence] = _mmcls_swin_v2_stage_width
    except ImportError:  # pragma: no cover
        pass
    try:
        from mmcls.models.backbones.van import VANBlock
        table[VANBlock] = _van_block_width
    except ImportError:  # pragma: no cover
        pass
    return table


def fix_width_attrs_(model: nn.Module) -> None:
    """After export: set the width attributes of ``_width_fixers`` from
    the sliced layers they follow."""
    table = _width_fixers()
    for m in model.modules():
        fix = table.get(type(m))
        if fix is not None:
            fix(m)
