"""What a Fusion run changes outside the model: the structure its state
dict carries, and the optimizer's parameters."""
from typing import Optional

from torch import nn


def fusion_structure(state, num_blocks: int, num_chains: int):
    """``(removed, linearised)`` bool lists of a Fusion state dict, or
    ``(None, None)`` when it holds no Fusion structure of this model."""
    removed, linear = state.get('fusion_removed'), state.get(
        'fusion_linear')
    if removed is None or linear is None or removed.numel() != num_blocks \
            or linear.numel() != num_chains:
        return None, None
    return removed.bool().tolist(), linear.bool().tolist()


def drop_missing_params_(optimizer, model: nn.Module) -> Optional[int]:
    """Remove from ``optimizer`` (one, a dict of them, or None) the
    parameters ``model`` no longer has, with their state."""
    if optimizer is None:
        return None
    alive = {id(p) for p in model.parameters()}
    dropped = 0
    for opt in (optimizer.values() if isinstance(optimizer, dict)
                else [optimizer]):
        for group in opt.param_groups:
            keep = [p for p in group['params'] if id(p) in alive]
            for p in group['params']:
                if id(p) not in alive:
                    opt.state.pop(p, None)
                    dropped += 1
            group['params'] = keep
    return dropped
