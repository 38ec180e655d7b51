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
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor, nn

from ...registry import LAYER_HANDLERS
from .attention_masks import attention_output_hook
from .attention_specs import PACKED, attention_spec, is_opaque_attention
from .group_units import tie_group_positions
from .layer_handler import MASK_FLAG, LayerHandler
from .layer_record import LayerRecord, prunable


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


@LAYER_HANDLERS.register_module()
class AttentionHandler(LayerHandler):
    """The attention classes of ``attention_specs``; subclasses of them
    with their own forward are known too, as blocking their input."""
    kind = 'attention'
    mask_hooks = (attention_output_hook, )

    def matches(self, module: nn.Module) -> bool:
        return attention_spec(module) is not None or \
            is_opaque_attention(module)

    def output(self, out):
        if isinstance(out, (tuple, list)) and out:
            return out[0]  # nn.MultiheadAttention: (output, weights)
        return out

    def trace(self, res, rec, module, v, in_shape, out_shape):
        v = self.read_input(res, rec, v, None)
        ok = v is not None and trace_attention(
            res.union, res.layers, rec, module, v.dim, v.ids)
        return v if ok else None

    def attach_masks(self, module, rec):
        # its projections carry the masks; a functional one recomputes
        if getattr(module, MASK_FLAG, False):
            return
        setattr(module, MASK_FLAG, True)
        spec = attention_spec(module)
        if spec is not None and spec.functional and prunable(rec.out_pos):
            module.register_forward_hook(attention_output_hook,
                                         with_kwargs=True)

    def set_masks(self, module, rec, sides):
        pass  # the projections' masks are the attention's

    def param_masks(self, module, rec, ko, ki):
        return attention_param_masks(module, rec, ko) if ko is not None \
            else []

    def parameter_slices(self, rec, ko, ki):
        return attention_parameter_slices(rec, ko) if ko is not None \
            else {}

    def prune_(self, module, rec, ko, ki):
        if ko is not None:
            prune_attention_(module, ko)
