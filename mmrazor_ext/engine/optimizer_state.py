"""Move an optimizer from a model to its physically pruned copy: the new
parameters take the old ones' places in the parameter groups (so learning
rates, weight decay and schedules carry on), and per-parameter state
(momentum, Adam moments) is sliced to the kept channels."""
from typing import Callable, Dict, Optional

import torch
from torch import Tensor, nn


def _optimizers(optimizer):
    if optimizer is None:
        return []
    return list(optimizer.values()) if isinstance(optimizer, dict) \
        else [optimizer]


@torch.no_grad()
def move_optimizer_(optimizer, old: nn.Module, new: nn.Module,
                    slice_fn: Callable[[str, Tensor], Optional[Tensor]]
                    ) -> int:
    """Point ``optimizer`` (one, a dict of them, or None) at ``new``'s
    parameters instead of ``old``'s, matched by name.

    Args:
        optimizer: torch optimizer(s) holding parameters of ``old``.
        old: the model trained so far.
        new: its pruned copy (same parameter names, fewer channels).
        slice_fn: ``slice_fn(name, tensor)`` gives a state tensor of
            parameter ``name`` (shaped like it in ``old``) cut to the shape
            in ``new``; it returns the tensor unchanged for parameters that
            lose nothing.

    Returns:
        How many parameters were moved.
    """
    old_params = dict(old.named_parameters())
    new_params = dict(new.named_parameters())
    by_id: Dict[int, str] = {id(p): n for n, p in old_params.items()}
    moved = 0
    for opt in _optimizers(optimizer):
        for group in opt.param_groups:
            for i, p in enumerate(group['params']):
                name = by_id.get(id(p))
                if name is None:
                    continue
                q = new_params[name]
                group['params'][i] = q
                state = opt.state.pop(p, None)
                if state:
                    opt.state[q] = {
                        k: (slice_fn(name, v) if isinstance(v, Tensor) and
                            v.shape == p.shape else v)
                        for k, v in state.items()}
                moved += 1
    return moved
