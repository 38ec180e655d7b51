"""Channel masks as buffers plus forward hooks (``module.forward`` is never
rebound).

Each recognised layer gets non-persistent buffers ``in_mask`` (conv /
linear) and ``out_mask`` (all), ones by default, shaped to broadcast over its
input / output (the names are mmrazor 0.x's, read by ``AutoSlim``). Layers
with prunable channels also get hooks: consumers multiply their input by
``in_mask`` (so pruned channels never reach a kept output, whatever ops sit
between) and producers / norms multiply their output by ``out_mask`` (so
norm biases do not leak into pruned channels); norms whose statistics span
the channels recompute their output with statistics over the kept channels
instead (``norm_masks``). A state-dict hook keeps the
mask buffers out of every state dict, mmcv's checkpoint writer included
(it saves non-persistent buffers too), so a checkpoint of a masked model,
whatever algorithm trains it, loads strictly into a freshly built one. The
hooks are plain functions, so a deep copy of the model keeps working masks.
"""
from typing import Dict

import torch
from torch import Tensor, nn

from ..compat.private_apis import remove_hooks
from .handlers.attention import attention_output_hook
from .handlers.attention_specs import attention_spec
from .handlers.group_norm import needs_stat_hook, norm_output_hook
from .handlers.layer_record import LayerRecord

MASK_FLAG = '_channel_pruner_masks'


def _mask_input(module, args):
    return (args[0] * module.in_mask, ) + tuple(args[1:])


def _mask_output(module, args, out):
    return out * module.out_mask


def _drop_masks(module, state, prefix, local_metadata):
    for name in ('in_mask', 'out_mask'):
        state.pop(prefix + name, None)


def _shape(rec: LayerRecord, n: int):
    if rec.kind == 'linear':
        return (n, )
    shape = [1] * max(2, rec.out_ndim)
    shape[rec.chan_dim] = n
    return tuple(shape)


def kept(pos, keep: Tensor):
    """Bool keep-mask of positions ``pos`` (unit index or -1 = always)."""
    k = torch.ones(pos.numel(), dtype=torch.bool)
    m = pos >= 0
    k[m] = keep[pos[m]]
    return k


def pruned_sides(rec: LayerRecord, keep: Tensor):
    """``(kept outputs, kept inputs)`` of a layer as bool masks, each None
    where that side of the layer loses no channel."""
    sides = []
    for pos in (rec.out_pos, rec.in_pos):
        k = kept(pos, keep) if pos is not None else None
        sides.append(None if k is None or bool(k.all()) else k)
    return tuple(sides)


def attach_masks(model: nn.Module, layers: Dict[str, LayerRecord]) -> None:
    """Add mask buffers to every layer and hooks where pruning is possible."""
    for rec in layers.values():
        if rec.kind == 'param':
            continue
        m = model.get_submodule(rec.name)
        if getattr(m, MASK_FLAG, False):
            continue
        if rec.kind == 'attention':
            # its projections carry the masks; a functional one recomputes
            setattr(m, MASK_FLAG, True)
            spec = attention_spec(m)
            if spec is not None and spec.functional and \
                    rec.out_pos is not None and bool((rec.out_pos >= 0).any()):
                m.register_forward_hook(attention_output_hook,
                                        with_kwargs=True)
            continue
        w = getattr(m, 'weight', None)
        opts = dict(dtype=w.dtype, device=w.device) if w is not None else {}
        if rec.kind in ('conv', 'linear'):
            m.register_buffer('in_mask', torch.ones(
                _shape(rec, rec.in_channels), **opts), persistent=False)
        m.register_buffer('out_mask', torch.ones(
            _shape(rec, rec.out_channels), **opts), persistent=False)
        setattr(m, MASK_FLAG, True)
        m.register_state_dict_post_hook(_drop_masks)
        if rec.kind in ('conv', 'linear') and rec.in_pos is not None and \
                bool((rec.in_pos >= 0).any()):
            m.register_forward_pre_hook(_mask_input)
        if rec.out_pos is not None and bool((rec.out_pos >= 0).any()):
            if needs_stat_hook(rec):
                m._pruner_norm = (rec.norm_mode, rec.chan_dim)
                m.register_forward_hook(norm_output_hook)
            else:
                m.register_forward_hook(_mask_output)


def set_masks(model: nn.Module, layers: Dict[str, LayerRecord],
              keep: Tensor) -> None:
    """Write the masks of ``keep`` (one bool per prunable unit)."""
    for rec in layers.values():
        if rec.kind in ('param', 'attention'):
            continue
        m = model.get_submodule(rec.name)
        for side, pos in (('in_mask', rec.in_pos), ('out_mask', rec.out_pos)):
            buf = getattr(m, side, None)
            if buf is None or pos is None or buf.numel() != pos.numel():
                continue
            buf.copy_(kept(pos, keep).view(buf.shape).to(buf.dtype))


def detach_masks(model: nn.Module) -> None:
    """Remove the hooks and buffers added by :func:`attach_masks`."""
    for m in model.modules():
        if not getattr(m, MASK_FLAG, False):
            continue
        remove_hooks(m, (_mask_input, _mask_output, _drop_masks,
                         norm_output_hook, attention_output_hook))
        if hasattr(m, '_pruner_norm'):
            del m._pruner_norm
        buffers = dict(m.named_buffers(recurse=False,
                                       remove_duplicate=False))
        for name in ('in_mask', 'out_mask'):
            if name in buffers:
                delattr(m, name)
        delattr(m, MASK_FLAG)
