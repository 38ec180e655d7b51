"""Drop residual blocks: each becomes its shortcut (identity, or its
downsample branch followed by the block's output activation), so stage
transitions keep their shape. Which blocks go is decided from importance
scores and a budget: blocks kept, a FLOPs fraction or a measured CPU
latency fraction."""
import copy
from typing import Callable, Dict, List, Optional, Sequence

from torch import nn

from ..pruners.graph.blocks import BlockInfo
from ..utils import UserInputError
from .module_paths import set_submodule

TARGETS = ('blocks', 'flops', 'latency')


class ShortcutBlock(nn.Module):
    """What is left of a removed transition block: ``act(shortcut(x))``.

    Args:
        shortcut: The block's shortcut branch (e.g. its downsample).
        act: The block's output activation.
    """

    def __init__(self, shortcut: nn.Module, act: nn.Module):
        super().__init__()
        self.shortcut, self.act = shortcut, act

    def forward(self, x):
        return self.act(self.shortcut(x))


def candidates(blocks: Sequence[BlockInfo],
               remove_transitions: bool) -> List[BlockInfo]:
    """Blocks that may go (transition blocks only if allowed)."""
    return [b for b in blocks if remove_transitions or not b.transition]


def check_target(target: dict, blocks: Sequence[BlockInfo],
                 remove_transitions: bool) -> None:
    """One-line :class:`UserInputError` for a budget that cannot be met;
    cheap (no data, no timing)."""
    if not isinstance(target, dict) or len(target) != 1 or \
            next(iter(target)) not in TARGETS:
        raise UserInputError(f'Fusion budget={target!r}: give exactly one '
                             f'of {TARGETS}, e.g. dict(blocks=6)')
    (key, value), = target.items()
    total, free = len(blocks), len(candidates(blocks, remove_transitions))
    if key == 'blocks':
        if not isinstance(value, int) or value < 0:
            raise UserInputError(f'Fusion budget blocks={value!r} must be '
                                 'an int >= 0 (residual blocks kept)')
        if value > total:
            raise UserInputError(
                f'Fusion budget blocks={value} is deeper than the model '
                f'({total} removable residual blocks)')
        if value < total - free:
            raise UserInputError(
                f'Fusion budget blocks={value} is too shallow to keep the '
                f'stage transitions ({total - free} transition blocks stay; '
                'set remove_transitions=True to replace them by their '
                'downsample branch)')
    elif not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise UserInputError(f'Fusion budget {key}={value!r} must be a '
                             'fraction of the unpruned model in (0, 1]')
    if not free:
        raise UserInputError('the model has no removable residual block '
                             '(every one is a stage transition; set '
                             'remove_transitions=True)')


def removal_order(blocks: Sequence[BlockInfo], scores: Dict[str, float],
                  remove_transitions: bool) -> List[str]:
    """Removable block names, least important first (ties: forward order)."""
    pos = {b.name: i for i, b in enumerate(blocks)}
    free = candidates(blocks, remove_transitions)
    return sorted((b.name for b in free),
                  key=lambda n: (float(scores[n]), pos[n]))


def choose_blocks(blocks: Sequence[BlockInfo], scores: Dict[str, float],
                  target: dict, remove_transitions: bool = False,
                  total_flops: Optional[int] = None,
                  latency_fraction: Optional[Callable[[List[str]], float]]
                  = None) -> List[str]:
    """The blocks to remove, least important first, for budget ``target``.

    Args:
        blocks: :func:`find_blocks` of the model.
        scores: ``{block: score}``; lower = less important.
        target: ``dict(blocks=K)`` (K blocks kept), ``dict(flops=f)`` (at
            most f of ``total_flops`` kept) or ``dict(latency=f)`` (the
            shortest prefix of the order whose ``latency_fraction`` is at
            most f, found by bisection over measured latencies).
        remove_transitions: Transition blocks may go too.
        total_flops: FLOPs of the whole model (flops target).
        latency_fraction: ``names -> measured latency fraction`` of the
            model without those blocks (latency target).
    """
    check_target(target, blocks, remove_transitions)
    order = removal_order(blocks, scores, remove_transitions)
    (key, value), = target.items()
    if key == 'blocks':
        return order[:len(blocks) - value]
    if key == 'flops':
        by_name = {b.name: b for b in blocks}
        flops, chosen = total_flops, []
        for n in order:
            if flops <= value * total_flops:
                break
            flops -= by_name[n].flops - by_name[n].shortcut_flops
            chosen.append(n)
        return chosen
    lo, hi = 0, len(order)  # smallest k with fraction(order[:k]) <= value
    if latency_fraction(order) > value:
        return list(order)
    while lo < hi:
        mid = (lo + hi) // 2
        if latency_fraction(order[:mid]) <= value:
            hi = mid
        else:
            lo = mid + 1
    return order[:lo]


def remove_blocks(model: nn.Module, blocks: Sequence[BlockInfo],
                  names: Sequence[str], inplace: bool = True) -> nn.Module:
    """Replace the blocks ``names`` by their shortcuts.

    Raises:
        UserInputError: A name is not a removable block of ``model``
            (checked before anything changes).
    """
    by_name = {b.name: b for b in blocks}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UserInputError(
            f'block {unknown[0]!r} is not a removable residual block of '
            f'{type(model).__name__} (blocks: '
            f'{", ".join(list(by_name)[:4])}, ...)')
    if not inplace:
        model = copy.deepcopy(model)
    for n in names:
        info = by_name[n]
        if info.shortcut is None:
            new = nn.Identity()
        else:  # the block's own modules, found on the graph
            act = model.get_submodule(info.act) if info.act else \
                nn.Identity()
            new = ShortcutBlock(model.get_submodule(info.shortcut), act)
        set_submodule(model, n, new)
    return model
