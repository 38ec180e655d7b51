"""Keep the parameters of pruned channels at exactly zero.

The pruner's masks act on activations, so a pruned channel contributes
nothing to the output and gets a zero gradient. Its weights would still
move under weight decay, momentum left from before it was pruned, or any
optimizer that changes parameters without a gradient; zeroing them (and
the optimizer's per-parameter state) after every step makes a masked
checkpoint hold the pruned model exactly.
"""
import torch
from torch import Tensor, nn

from .handlers import handler_of
from .handlers.layer_handler import ParamMasks, named_modules
from .handlers.layer_record import all_pruned_sides


def param_masks(model: nn.Module, layers, keep: Tensor) -> ParamMasks:
    """``(parameter, 0/1 mask)`` for every parameter touching a pruned
    channel, from the pruner's layer records and ``keep`` (one bool per
    prunable unit), as each layer's handler gives them."""
    out, modules = [], named_modules(model)
    for name, (ko, ki) in all_pruned_sides(layers, keep).items():
        rec = layers[name]
        h = handler_of(rec)
        out.extend(h.param_masks(h.owner(modules, rec), rec, ko, ki))
    return out


@torch.no_grad()
def zero_pruned_(masks: ParamMasks, optimizer=None) -> None:
    """Multiply each parameter (and, with ``optimizer``, its state tensors
    of the same shape: momentum, Adam moments) by its mask, in place."""
    optimizers = (optimizer.values() if isinstance(optimizer, dict)
                  else [optimizer] if optimizer is not None else [])
    for i, (param, mask) in enumerate(masks):
        if mask.device != param.device or mask.dtype != param.dtype:
            mask = mask.to(param.device, param.dtype)
            masks[i] = (param, mask)
        param.mul_(mask)
        for opt in optimizers:
            for value in opt.state.get(param, {}).values():
                if isinstance(value, Tensor) and value.shape == param.shape:
                    value.mul_(mask)
