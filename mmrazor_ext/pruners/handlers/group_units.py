"""Grouped layers: keep the same number of channels in every group.

A grouped conv (``groups = G``, not depthwise) or a GroupNorm only stays
an ordinary layer of the same kind after pruning if every group keeps the
same number of channels. Joining channel ``j`` of every group into one unit
(``g * per + j`` for all ``g``) guarantees it: a unit removes one channel
from each group, ``groups`` is unchanged, and a grouped conv's weights
shrink on both sides (``[out, in / G]`` -> ``[out', in' / G]``), which
whole-group removal would not give. A channel shuffle between grouped convs
(``view`` into groups, ``transpose``, ``view`` back) only moves channels;
the tracer follows it (``channel_mapper``) and the units meet through it.
"""
import torch
from torch import Tensor


def tie_group_positions(union, ids: Tensor,
                        groups: int) -> None:
    """Join channel ``j`` of every one of ``groups`` equal groups of
    ``ids`` (a 1-D tensor of element ids)."""
    if groups <= 1 or ids.numel() % groups:
        return
    rows = ids.view(groups, -1)
    if rows.shape[1] == ids.numel():
        return
    for g in range(1, groups):
        union.union_pairs(rows[0], rows[g])


def local_keep(k: Tensor, groups: int) -> Tensor:
    """The channels one group keeps (the same in every group), as a bool
    mask over ``len(k) // groups`` positions, from the kept mask ``k`` of
    all the layer's channels.

    Raises:
        ValueError: the groups keep different channels (a unit that does
            not span the groups: a bug, never a user error).
    """
    rows = k.view(groups, -1)
    if not bool((rows == rows[:1]).all()):
        raise ValueError('groups keep different channels')
    return rows[0].clone()


def group_counts_equal(k: Tensor, groups: int) -> bool:
    """Whether every one of ``groups`` groups of ``k`` keeps as many."""
    counts = k.view(groups, -1).sum(1)
    return bool((counts == counts[0]).all())


def kept_groups(k: Tensor, groups: int) -> int:
    """Groups that keep at least one channel (for GroupNorm with one
    channel per group, where a group is a channel)."""
    return int(torch.count_nonzero(k.view(groups, -1).any(1)))
