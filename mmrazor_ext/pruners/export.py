"""Physical removal of pruned channels: an ordinary, smaller ``nn.Module``.

Kept channels may be any indices; each layer is sliced by its handler
(``handlers/``): weights on both sides, norm parameters and running
statistics along with them, a grouped conv keeping its ``groups`` (every
group keeps the same input channels, ``group_units``), attention widths,
parameters following channels.
"""
import copy
from typing import Dict, Tuple

import torch
from torch import Tensor, nn

from .handlers import LayerRecord, handler_of
from .handlers.layer_record import pruned_sides
from .masks import detach_masks
from .width_attrs import fix_width_attrs_


def prune_model_(model: nn.Module, layers: Dict[str, LayerRecord],
                 keep: Tensor) -> nn.Module:
    """Slice the layers of ``model`` in place to the channels in ``keep``,
    each as its handler does."""
    with torch.no_grad():
        for rec in layers.values():
            ko, ki = pruned_sides(rec, keep)
            if ko is None and ki is None:
                continue
            h = handler_of(rec)
            h.prune_(h.owner(model, rec), rec, ko, ki)
    fix_width_attrs_(model)
    return model


def export_pruned_model(model: nn.Module, layers: Dict[str, LayerRecord],
                        keep: Tensor) -> nn.Module:
    """A pruned copy of ``model`` without masks; ``model`` is unchanged.

    Parameters that lose entries are not copied before they are sliced
    (the copy starts out sharing them; slicing makes new ones), and any
    parameter still shared afterwards gets its own copy."""
    named = dict(model.named_parameters())
    memo = {id(named[n]): named[n] for n in parameter_slices(layers, keep)
            if n in named}
    out = copy.deepcopy(model, memo)
    detach_masks(out)
    prune_model_(out, layers, keep)
    originals = {id(p) for p in model.parameters()}
    for m in out.modules():
        for name, p in list(m.named_parameters(recurse=False,
                                               remove_duplicate=False)):
            if id(p) in originals:
                setattr(m, name, nn.Parameter(
                    p.detach().clone(), requires_grad=p.requires_grad))
    return out


def parameter_slices(layers: Dict[str, LayerRecord],
                     keep: Tensor) -> Dict[str, Tuple]:
    """How :func:`prune_model_` slices each parameter: ``{param name
    (relative to the model): (kept indices along dim 0 or None, along
    dim 1 or None)}``, for parameters that lose entries. Optimizer state
    (momentum, Adam moments) is sliced the same way when training moves to
    the exported model, and FLOPs are counted with them (``flops.py``)."""
    out = {}
    for rec in layers.values():
        ko, ki = pruned_sides(rec, keep)
        if ko is not None or ki is not None:
            out.update(handler_of(rec).parameter_slices(rec, ko, ki))
    return out


def slice_tensor(t: Tensor, slices) -> Tensor:
    """``t`` restricted to ``slices`` (see :func:`parameter_slices`)."""
    for dim, k in enumerate(slices):
        if k is not None:
            t = t.index_select(dim, k.to(t.device))
    return t
