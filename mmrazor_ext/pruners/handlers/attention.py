"""Multi-head attention pruned by per-head dimension.

The tracer cannot follow channels through an attention block op by op: the
q / k / v projection is reshaped into heads and contracted (``q @ k^T``). So
the attention modules below are recognised whole (kind ``'attention'``,
like a conv) and pruned by their semantics:

- the inner width (``num_heads * head_dim``) keeps the same indices in q, k
  and v and the same number in every head: dim ``j`` of every head is one
  unit, so ``num_heads`` stays and ``head_dim`` shrinks;
- the inner width is tied index for index to the input and output channels
  (the module's output width equals its input width), so one unit removes
  input channel ``j``, inner dim ``j`` and output channel ``j``;
- the q/k/v and output projections become ordinary linear records of the
  pruner (sliced on export, masked in the masked model); the attention
  module's width attributes (``embed_dim``, ``head_dim``...) are set on
  export;
- modules that call their projections functionally (torch's
  ``nn.MultiheadAttention``, torchvision's Swin attention) cannot be masked
  by hooks on the projections: a forward hook recomputes their output from
  their input with the masked weights (``module.forward`` is untouched).
  Where the softmax scale follows the head width (``head_dim ** -0.5``
  computed in the forward), the recompute scales q by
  ``sqrt(head_dim / kept)`` so the masked model equals the exported one.
"""
import math
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention_specs import PACKED, attention_spec
from .group_units import tie_group_positions
from .layer_record import LayerRecord


def _linear(module, name) -> Optional[nn.Linear]:
    m = getattr(module, name, None) if name else None
    return m if isinstance(m, nn.Linear) else None


def trace_attention(union, layers: Dict[str, LayerRecord],
                    rec: LayerRecord, module: nn.Module, v_dim: int,
                    ids: Tensor) -> bool:
    """Tie an attention module's channels (see the module doc) and add
    linear records for its projections. False (channels blocked) when the
    module's widths do not match its input."""
    spec = attention_spec(module)
    if spec is None:
        why = f'{rec.name}: an attention module the pruner does not know ' \
            '(its forward may read widths from its input)'
        union.block(ids, why)
        _block_children(union, layers, rec.name, (), why)
        return False
    _block_children(union, layers, rec.name,
                    (spec.qkv, spec.proj, spec.kv, spec.sr, spec.sr_norm),
                    f'{rec.name}: inside an attention module')
    n = ids.numel()
    heads = int(getattr(module, spec.heads))
    proj = _linear(module, spec.proj)
    qkv = _linear(module, spec.qkv)
    ok = proj is not None and proj.in_features == n and \
        proj.out_features == n and n % heads == 0
    copies = 1 if spec.kv else 3
    if spec.qkv:
        ok = ok and qkv is not None and qkv.in_features == n and \
            qkv.out_features == copies * n
    else:
        ok = ok and module.in_proj_weight.shape == (3 * n, n)
    kv = _linear(module, spec.kv)
    if spec.kv:
        ok = ok and kv is not None and kv.in_features == n and \
            kv.out_features == 2 * n
    sr = getattr(module, spec.sr, None) if spec.sr else None
    sr_norm = getattr(module, spec.sr_norm, None) if sr is not None \
        else None
    if sr is not None:
        ok = ok and isinstance(sr, nn.Conv2d) and sr.groups == 1 and \
            sr.in_channels == sr.out_channels == n and \
            type(sr_norm) is nn.LayerNorm and \
            tuple(sr_norm.normalized_shape) == (n, )
    if not ok:
        union.block(ids, f'{rec.name}: attention whose widths differ from '
                    'its input')
        return False
    tie_group_positions(union, ids, heads)
    if not spec.qkv:
        rec.norm_mode = PACKED
        rec.has_bias = module.in_proj_bias is not None
    rec.in_ids = rec.out_ids = ids
    rec.in_channels = rec.out_channels = n
    rec.tied, rec.chan_dim, rec.groups = True, v_dim, heads
    for child, out_ids in ((spec.qkv, ids.repeat(copies)),
                           (spec.kv, ids.repeat(2)), (spec.proj, ids)):
        if not child:
            continue
        m = getattr(module, child)
        r = _child_record(layers, f'{rec.name}.{child}', 'linear')
        r.in_channels, r.out_channels = m.in_features, m.out_features
        r.has_bias = m.bias is not None
        r.in_ids, r.out_ids = ids, out_ids
    if sr is not None:  # the reduction conv and its norm keep the channels
        r = _child_record(layers, f'{rec.name}.{spec.sr}', 'conv')
        r.in_channels = r.out_channels = n
        r.kernel = sr.kernel_size[0] * sr.kernel_size[1]
        r.has_bias, r.in_ids, r.out_ids = sr.bias is not None, ids, ids
        r = _child_record(layers, f'{rec.name}.{spec.sr_norm}', 'group_norm')
        r.in_channels = r.out_channels = n
        r.affine = sr_norm.weight is not None
        r.in_ids = r.out_ids = ids
        r.chan_dim, r.out_ndim, r.norm_mode, r.param_dim = 2, 3, 'ln', 1
    return True


def _child_record(layers, name, kind) -> LayerRecord:
    r = layers.get(name)
    if r is None:
        r = layers[name] = LayerRecord(name=name, kind=kind)
    r.kind, r.produces, r.tied, r.groups = kind, False, False, 1
    return r


def _block_children(union, layers, name, keep_out, why):
    """Block the channels of the layers recorded inside the attention
    module ``name`` other than its projections ``keep_out``: the tracer
    skips the ops between them, so nothing else ties their channels."""
    mine = {f'{name}.{c}' for c in keep_out if c}
    for n, r in layers.items():
        if n.startswith(name + '.') and n not in mine:
            for ids in (r.in_ids, r.out_ids):
                if ids is not None:
                    union.block(ids, why)


# ----------------------------------------------------------------- masks
def _q_scale(module, spec, keep: Tensor) -> float:
    if not spec.rescale:
        return 1.0
    heads = int(getattr(module, spec.heads))
    per, kept = keep.numel() // heads, int(keep.sum()) // heads
    return math.sqrt(per / max(1, kept))


def attention_output_hook(module, args, kwargs, out):
    """Forward hook of a functional attention module: its output with the
    pruned inner dims (and input / output channels) removed; a no-op while
    all are kept."""
    spec = attention_spec(module)
    proj = getattr(module, spec.proj)
    keep = proj.in_mask
    if bool(keep.all()):
        return None
    s = _q_scale(module, spec, keep)
    rows = torch.cat([keep * s, keep, keep])
    w_out = proj.weight * proj.out_mask[:, None] * keep[None, :]
    b_out = proj.bias * proj.out_mask if proj.bias is not None else None
    if isinstance(module, nn.MultiheadAttention):
        return _mha(module, args, kwargs, rows, keep, w_out, b_out)
    qkv = getattr(module, spec.qkv)
    w_in = qkv.weight * rows[:, None] * keep[None, :]
    b_in = qkv.bias * rows if qkv.bias is not None else None
    from torchvision.models.swin_transformer import shifted_window_attention
    extra = {}
    if hasattr(module, 'logit_scale'):
        extra['logit_scale'] = module.logit_scale
    return shifted_window_attention(
        args[0], w_in, w_out, module.get_relative_position_bias(),
        module.window_size, module.num_heads, shift_size=module.shift_size,
        attention_dropout=module.attention_dropout, dropout=module.dropout,
        qkv_bias=b_in, proj_bias=b_out, training=module.training, **extra)


_MHA_ARGS = ('query', 'key', 'value', 'key_padding_mask', 'need_weights',
             'attn_mask', 'average_attn_weights', 'is_causal')


def _mha(module, args, kwargs, rows, keep, w_out, b_out):
    a = dict(zip(_MHA_ARGS, args))
    a.update(kwargs)
    q = a['query']
    k, v = a.get('key', q), a.get('value', q)
    if module.batch_first:
        q, k, v = (t.transpose(1, 0) for t in (q, k, v))
    b_in = module.in_proj_bias * rows if module.in_proj_bias is not None \
        else None
    bias_k = module.bias_k * keep if module.bias_k is not None else None
    bias_v = module.bias_v * keep if module.bias_v is not None else None
    out, weights = F.multi_head_attention_forward(
        q, k, v, module.embed_dim, module.num_heads,
        module.in_proj_weight * rows[:, None] * keep[None, :], b_in,
        bias_k, bias_v, module.add_zero_attn, module.dropout, w_out, b_out,
        training=module.training,
        key_padding_mask=a.get('key_padding_mask'),
        need_weights=a.get('need_weights', True),
        attn_mask=a.get('attn_mask'),
        average_attn_weights=a.get('average_attn_weights', True),
        is_causal=a.get('is_causal', False))
    if module.batch_first:
        out = out.transpose(1, 0)
    return out, weights


# ----------------------------------------------------------------- export
def prune_attention_(module: nn.Module, k: Tensor) -> None:
    """Set an attention module's widths to the kept channels ``k`` (its
    projections are sliced as linear records); slice
    ``nn.MultiheadAttention``'s packed ``in_proj``."""
    spec = attention_spec(module)
    n = int(k.sum())
    heads = int(getattr(module, spec.heads))
    for attr in spec.inner_attrs:
        setattr(module, attr, n)
    for attr in spec.head_attrs:
        setattr(module, attr, n // heads)
    if isinstance(module, nn.MultiheadAttention):
        rows, cols = packed_slices(k)
        for name, sl in (('in_proj_weight', (rows, cols)),
                         ('in_proj_bias', (rows, ))):
            p = getattr(module, name)
            if p is None:
                continue
            for dim, idx in enumerate(sl):
                if idx is not None:
                    p = p.index_select(dim, idx.to(p.device))
            setattr(module, name, nn.Parameter(
                p.contiguous(), requires_grad=getattr(
                    module, name).requires_grad))


def packed_slices(k: Tensor) -> Tuple[Tensor, Tensor]:
    """Kept rows of a packed ``[q; k; v]`` weight and kept columns."""
    idx = k.nonzero().flatten()
    n = k.numel()
    return torch.cat([idx, idx + n, idx + 2 * n]), idx


def attention_parameter_slices(rec: LayerRecord,
                               k: Tensor) -> Dict[str, tuple]:
    """``parameter_slices`` entries of the attention module itself (the
    packed projection of ``nn.MultiheadAttention``)."""
    if rec.norm_mode != PACKED:
        return {}
    rows, cols = packed_slices(k)
    out = {f'{rec.name}.in_proj_weight': (rows, cols)}
    if rec.has_bias:
        out[f'{rec.name}.in_proj_bias'] = (rows, )
    return out


def attention_param_masks(module: nn.Module, rec: LayerRecord, k: Tensor):
    """``(parameter, 0/1 mask)`` of the packed projection."""
    if rec.norm_mode != PACKED:
        return []
    rows = torch.cat([k, k, k]).float()
    out = [(module.in_proj_weight, rows[:, None] * k[None, :].float())]
    if module.in_proj_bias is not None:
        out.append((module.in_proj_bias, rows))
    return out
