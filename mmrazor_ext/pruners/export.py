"""Physical removal of pruned channels: an ordinary, smaller ``nn.Module``.

Kept channels may be any indices; each layer is sliced by its handler
(``handlers/``): weights on both sides, norm parameters and running
statistics along with them, a grouped conv keeping its ``groups`` (every
group keeps the same input channels, ``group_units``), attention widths,
parameters following channels.
"""
from typing import Dict, Tuple

import torch
from torch import Tensor, nn

from .handlers import LayerRecord, handler_of
from .handlers.layer_handler import named_modules
from .handlers.layer_record import all_pruned_sides, kept
from .masks import detach_masks
from .module_copy import copy_module
from .width_attrs import fix_width_attrs_


def prune_model_(model: nn.Module, layers: Dict[str, LayerRecord],
                 keep: Tensor) -> nn.Module:
    """Slice the layers of ``model`` in place to the channels in ``keep``,
    each as its handler does."""
    modules = named_modules(model)
    with torch.no_grad():
        for name, (ko, ki) in all_pruned_sides(layers, keep).items():
            rec = layers[name]
            h = handler_of(rec)
            h.prune_(h.owner(modules, rec), rec, ko, ki)
    fix_width_attrs_(model)
    return model


def export_pruned_model(model: nn.Module, layers: Dict[str, LayerRecord],
                        keep: Tensor) -> nn.Module:
    """A pruned copy of ``model`` without masks; ``model`` is unchanged.

    The copy starts out sharing every parameter and buffer (no tensor is
    copied before it is sliced: slicing makes new ones); the tensors
    still shared afterwards get their own copy, one per original, so
    tied parameters stay tied."""
    tensors = list(model.parameters()) + list(model.buffers())
    out = copy_module(model, {id(t): t for t in tensors})
    detach_masks(out)
    prune_model_(out, layers, keep)
    originals, copies = {id(t) for t in tensors}, {}

    def own(t):
        if id(t) not in copies:
            c = t.detach().clone()
            copies[id(t)] = nn.Parameter(c, requires_grad=t.requires_grad) \
                if isinstance(t, nn.Parameter) else c
        return copies[id(t)]

    modules = named_modules(out)
    for name, t in [*out.named_parameters(remove_duplicate=False),
                    *out.named_buffers(remove_duplicate=False)]:
        if id(t) in originals:
            owner, _, attr = name.rpartition('.')
            setattr(modules[owner], attr, own(t))
    return out


def parameter_slices(layers: Dict[str, LayerRecord],
                     keep: Tensor) -> Dict[str, Tuple]:
    """How :func:`prune_model_` slices each parameter: ``{param name
    (relative to the model): (kept indices along dim 0 or None, along
    dim 1 or None)}``, for parameters that lose entries. Optimizer state
    (momentum, Adam moments) is sliced the same way when training moves to
    the exported model, and FLOPs are counted with them (``flops.py``)."""
    out = {}
    for name, (ko, ki) in all_pruned_sides(layers, keep).items():
        rec = layers[name]
        out.update(handler_of(rec).parameter_slices(rec, ko, ki))
    return out


def slice_tensor(t: Tensor, slices) -> Tensor:
    """``t`` restricted to ``slices`` (see :func:`parameter_slices`)."""
    for dim, k in enumerate(slices):
        if k is not None:
            t = t.index_select(dim, k.to(t.device))
    return t


def channel_cfg(layers: Dict[str, LayerRecord], keep: Tensor
                ) -> Dict[str, dict]:
    """``{layer: {in_channels, out_channels, raw_in_channels,
    raw_out_channels}}``: the widths export gives each layer (mmrazor's
    ``channel_cfg``; the input side of consumers only)."""
    cfg = {}
    for name, rec in layers.items():
        d = {}
        for side, pos, n in (('in', rec.in_pos, rec.in_channels),
                             ('out', rec.out_pos, rec.out_channels)):
            if side == 'in' and not handler_of(rec).masks_input:
                continue
            k = int(kept(pos, keep).sum()) if pos is not None else n
            d[f'{side}_channels'], d[f'raw_{side}_channels'] = k, n
        cfg[name] = d
    return cfg
