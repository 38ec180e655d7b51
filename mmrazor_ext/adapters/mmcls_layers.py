"""mmcls layer classes whose layout the Pruner must be told, as plain data
it reads (:func:`attention_layouts`, :func:`width_fixers`): the Pruner
itself names no mmcls module. Each table is built on first use, so mmcls
is imported only when a model is traced or exported."""
from typing import Callable, Dict

from torch import nn


def attention_layouts() -> Dict[type, dict]:
    """``{attention class: AttentionSpec fields}`` of mmcls's attentions
    (see ``pruners/handlers/attention_specs.py`` for the fields)."""
    try:
        from mmcls.models.backbones.twins import (
            GlobalSubsampledAttention, LocallyGroupedSelfAttention)
        from mmcls.models.utils.attention import (MultiheadAttention,
                                                  WindowMSA)
    except ImportError:  # pragma: no cover - mmcls is a dependency
        return {}
    return {
        MultiheadAttention: dict(qkv='qkv', proj='proj', heads='num_heads',
                                 inner_attrs=('embed_dims', ),
                                 head_attrs=('head_dims', )),
        WindowMSA: dict(qkv='qkv', proj='proj', heads='num_heads',
                        inner_attrs=('embed_dims', )),
        # their forwards take the width from the input: tied to it here
        LocallyGroupedSelfAttention: dict(
            qkv='qkv', proj='proj', heads='num_heads',
            inner_attrs=('embed_dims', )),
        GlobalSubsampledAttention: dict(
            qkv='q', proj='proj', heads='num_heads',
            inner_attrs=('embed_dims', ), head_attrs=('head_dims', ),
            kv='kv', sr='sr', sr_norm='norm'),
    }


def _swin_width(m: nn.Module) -> None:
    # the forward views each output with num_features[i]
    for i in range(len(m.num_features)):
        norm = getattr(m, f'norm{i}', None)
        if isinstance(norm, nn.LayerNorm):
            m.num_features[i] = int(norm.normalized_shape[0])


def _swin_v2_stage_width(m: nn.Module) -> None:
    # Swin V2 views each stage output with stage.out_channels (it has no
    # num_features)
    m.out_channels = int(m.blocks[-1].norm1.normalized_shape[-1])


def _van_block_width(m: nn.Module) -> None:
    # VAN reshapes each stage output with block.out_channels
    m.out_channels = int(m.attn.proj_1.in_channels)


def width_fixers() -> Dict[type, Callable[[nn.Module], None]]:
    """``{class: fix(module)}`` of mmcls models whose forward reads a
    pruned width from an attribute (Swin views its outputs with
    ``num_features``, Swin V2 with each stage's ``out_channels``, VAN
    with each block's ``out_channels``), set after export from the
    sliced layers."""
    try:
        from mmcls.models.backbones import SwinTransformer
        from mmcls.models.backbones.swin_transformer_v2 import \
            SwinBlockV2Sequence
        from mmcls.models.backbones.van import VANBlock
    except ImportError:  # pragma: no cover - mmcls is a dependency
        return {}
    return {SwinTransformer: _swin_width,
            SwinBlockV2Sequence: _swin_v2_stage_width,
            VANBlock: _van_block_width}
