"""Keep the parameters of pruned channels at exactly zero.

The pruner's masks act on activations, so a pruned channel contributes
nothing to the output and gets a zero gradient. Its weights would still
move under weight decay, momentum left from before it was pruned, or any
optimizer that changes parameters without a gradient; zeroing them (and
the optimizer's per-parameter state) after every step makes a masked
checkpoint hold the pruned model exactly.
"""
from typing import Dict, List, Tuple

import torch
from torch import Tensor, nn

from .handlers.attention import attention_param_masks
from .handlers.group_norm import norm_param_dim
from .handlers.group_units import local_keep
from .masks import pruned_sides

ParamMasks = List[Tuple[nn.Parameter, Tensor]]


def _conv_mask(module, rec, ko, ki) -> Dict[str, Tensor]:
    w = module.weight
    mask = torch.ones(w.shape[:2])
    if ko is not None:
        mask *= ko[:, None].float()
    if ki is not None and not rec.tied:
        groups = getattr(module, 'groups', 1)
        if groups > 1:
            ki = local_keep(ki, groups)
        mask *= ki[None, :].float()
    masks = {'weight': mask.view(*mask.shape, *[1] * (w.dim() - 2))}
    if ko is not None:
        masks['bias'] = ko.float()
    return masks


def param_masks(model: nn.Module, layers, keep: Tensor) -> ParamMasks:
    """``(parameter, 0/1 mask)`` for every parameter touching a pruned
    channel, from the pruner's layer records and ``keep`` (one bool per
    prunable unit)."""
    out = []
    for rec in layers.values():
        ko, ki = pruned_sides(rec, keep)
        if ko is None and ki is None:
            continue
        if rec.kind == 'param':
            param = model.get_parameter(rec.name)
            out.append((param, _along(ko, rec.param_dim, param.dim())))
            continue
        module = model.get_submodule(rec.name)
        if rec.kind == 'attention':
            if ko is not None:
                out.extend(attention_param_masks(module, rec, ko))
            continue
        if rec.kind in ('conv', 'linear'):
            masks = _conv_mask(module, rec, ko, ki)
        elif ko is not None:  # norms: scale and shift per channel
            dim = norm_param_dim(rec) if rec.kind == 'group_norm' else 0
            w = getattr(module, 'weight', None)
            masks = {} if w is None else {
                'weight': _along(ko, dim, w.dim()),
                'bias': _along(ko, dim, w.dim())}
        else:
            masks = {}
        for name, mask in masks.items():
            param = getattr(module, name, None)
            if isinstance(param, Tensor) and mask.dim() == param.dim():
                out.append((param, mask))
    return out


def _along(k: Tensor, dim: int, ndim: int) -> Tensor:
    shape = [1] * ndim
    shape[dim] = k.numel()
    return k.float().view(shape)


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
