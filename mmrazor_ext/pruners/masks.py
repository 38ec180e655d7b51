"""Channel masks as buffers plus forward hooks (``module.forward`` is never
rebound), attached by each layer's handler (``handlers/``).

Each masked layer gets non-persistent buffers ``in_mask`` (consumers: conv
/ linear) and ``out_mask``, ones by default, shaped to broadcast over its
input / output (the names are mmrazor 0.x's, read by ``AutoSlim``). Layers
with prunable channels also get hooks: consumers multiply their input by
``in_mask`` (so pruned channels never reach a kept output, whatever ops sit
between) and producers / norms multiply their output by ``out_mask`` (so
norm biases do not leak into pruned channels); norms whose statistics span
the channels and attention modules that call their projections
functionally recompute their output instead (``handlers/group_norm.py``,
``handlers/attention_masks.py``). A state-dict hook keeps the mask buffers
out of every state dict, mmcv's checkpoint writer included (it saves
non-persistent buffers too), so a checkpoint of a masked model, whatever
algorithm trains it, loads strictly into a freshly built one. The hooks
are plain functions, so a deep copy of the model keeps working masks.
"""
from typing import Dict

from torch import Tensor, nn

from ..compat.private_apis import remove_hooks
from .handlers import LayerRecord, handler_of, handlers
from .handlers.layer_handler import (MASK_BUFFERS, MASK_FLAG, drop_masks,
                                     named_modules)
from .handlers.layer_record import kept_sides


def attach_masks(model: nn.Module, layers: Dict[str, LayerRecord]
                 ) -> Dict[str, LayerRecord]:
    """Add mask buffers to every layer and hooks where pruning is possible.

    Returns:
        The layers whose module had masks already (an earlier pruner's,
        which may hold any subnet); every other layer's masks now keep
        every channel (``LayerHandler.attach_masks``).
    """
    modules, held = named_modules(model), {}
    for name, rec in layers.items():
        h = handler_of(rec)
        module = h.owner(modules, rec)
        if getattr(module, MASK_FLAG, False):
            held[name] = rec
        h.attach_masks(module, rec)
    return held


def set_masks(model: nn.Module, layers: Dict[str, LayerRecord],
              keep: Tensor) -> None:
    """Write the masks of ``keep`` (one bool per prunable unit)."""
    modules, sides = named_modules(model), kept_sides(layers, keep)
    for name, rec in layers.items():
        h = handler_of(rec)
        h.set_masks(h.owner(modules, rec), rec, sides[name])


def detach_masks(model: nn.Module) -> None:
    """Remove the hooks and buffers added by :func:`attach_masks`."""
    hooks = {drop_masks}
    for h in handlers():
        hooks.update(h.mask_hooks)
    for m in model.modules():
        if not getattr(m, MASK_FLAG, False):
            continue
        remove_hooks(m, hooks)
        for h in handlers():
            h.detach_masks(m)
        buffers = dict(m.named_buffers(recurse=False,
                                       remove_duplicate=False))
        for name in MASK_BUFFERS:
            if name in buffers:
                delattr(m, name)
        delattr(m, MASK_FLAG)
