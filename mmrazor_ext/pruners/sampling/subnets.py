"""Turning scores into subnets: pure functions of scores and ratios.

``ratio`` is always the fraction of a space's channels (units) REMOVED:
0 keeps everything, 0.3 removes 30%. Kept counts are rounded to a multiple
of ``divisor`` (or the whole space; see ``width_rounding.py`` for spaces
narrower than the divisor) and never fall below ``min_channels`` (>= 1).
"""
import math
from typing import Dict, List, Optional

import torch
from torch import Tensor

from .width_rounding import next_width, round_width

Subnet = Dict[str, List[int]]


def check_ratio(ratio, what='ratio') -> float:
    """``ratio`` as a float in [0, 1); ``what`` names it in the error, and
    one whose name says FLOPs is a fraction of FLOPs, not channels."""
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)):
        raise TypeError(f'{what} must be a number in [0, 1), got {ratio!r}')
    if not 0 <= ratio < 1:
        unit = 'FLOPs' if 'flops' in what.lower() else 'channels'
        raise ValueError(f'{what} must be in [0, 1) (fraction of {unit} '
                         f'removed), got {ratio}')
    return float(ratio)


def kept_count(n: int, ratio: float, min_channels: int = 1,
               divisor: int = 1, split_narrow: bool = False) -> int:
    """Channels kept out of ``n`` when removing ``ratio`` of them, rounded
    to the nearest width the divisor allows (:func:`round_width`)."""
    return round_width(n, n * (1 - ratio), divisor, min_channels,
                       split_narrow)


def top_k(scores: Tensor, k: int) -> List[int]:
    """Indices of the ``k`` highest scores, sorted (ties: lower index)."""
    order = torch.sort(-scores.double(), stable=True).indices
    return sorted(order[:k].tolist())


def sample_nonuni(sizes: Dict[str, int], ratios: Dict[str, float],
                  scores: Dict[str, Tensor], min_channels=1,
                  divisor=1, split_narrow=False) -> Subnet:
    """Keep the best units of each space at its own ratio."""
    return {name: top_k(scores[name], kept_count(
        n, ratios.get(name, 0.0), min_channels, divisor, split_narrow))
        for name, n in sizes.items()}


DIFF_NORMS = ('auto', 'max', 'minmax', 'standard', 'rank')


class SpaceScores(dict):
    """``{space_name: scores}`` that also say how their metric wants them
    compared across spaces in a global ranking: ``diff_norm`` (one of
    :data:`DIFF_NORMS` but ``'auto'``, or None for no preference), read by
    :func:`sample_diff` under ``diff_norm='auto'``. A plain dict is the
    same with no preference."""

    def __init__(self, scores=(), diff_norm: Optional[str] = None):
        super().__init__(scores)
        if diff_norm not in (None,) + DIFF_NORMS[1:]:
            raise ValueError(f'diff_norm preference must be one of '
                             f'{DIFF_NORMS[1:]} or None, got {diff_norm!r}')
        self.diff_norm = diff_norm


def normalise_space(s: Tensor, how: str) -> Tensor:
    """One space's scores made comparable with other spaces': divided by
    their largest magnitude (``'max'``), mapped onto [0, 1]
    (``'minmax'``; equal scores all map to 1), standardised to zero
    mean and unit deviation (``'standard'``; a single unit maps to 0) or
    replaced by their rank within the space over its size (``'rank'``:
    ``1/n ... 1``, ties in index order; spaces then lose about the same
    fraction of their units, whatever the scores' scale and skew)."""
    s = s.double()
    if how == 'rank':
        rank = torch.empty_like(s)
        rank[torch.sort(s, stable=True).indices] = torch.arange(
            1, len(s) + 1, dtype=s.dtype)
        return rank / len(s)
    if how == 'max':
        return s / s.abs().max().clamp(min=1e-12)
    if how == 'standard':
        if s.numel() < 2:
            return torch.zeros_like(s)
        return (s - s.mean()) / s.std().clamp(min=1e-12)
    lo, hi = s.min(), s.max()
    if float(hi - lo) <= 1e-12 * max(float(s.abs().max()), 1e-12):
        return torch.ones_like(s)
    return (s - lo) / (hi - lo)


def normalise_spaces(scores: Dict[str, Tensor], diff_norm='auto',
                     names=None) -> Dict[str, Tensor]:
    """The scores of spaces ``names`` (None: all) by
    :func:`normalise_space`; ``'auto'``: the metric's preference when
    ``scores`` is a :class:`SpaceScores` that states one, else ``'max'``
    unless some score of some space is negative, then ``'minmax'``."""
    names = list(scores) if names is None else list(names)
    if diff_norm == 'auto':
        diff_norm = getattr(scores, 'diff_norm', None)
    if diff_norm in ('auto', None):
        signed = any(bool((scores[n] < 0).any()) for n in names)
        diff_norm = 'minmax' if signed else 'max'
    return {n: normalise_space(scores[n], diff_norm) for n in names}


def sample_diff(sizes: Dict[str, int], ratio: float,
                scores: Dict[str, Tensor], min_channels=1,
                divisor=1, min_keep_fraction=0.0,
                diff_norm='auto', split_narrow=False) -> Subnet:
    """One global ranking of all units, each space's scores normalised so
    spaces are comparable (``diff_norm``, see :func:`normalise_space`;
    ``'auto'``: the metric's preference when ``scores`` is a
    :class:`SpaceScores` that states one, else ``'max'`` unless some
    score of some space is negative, then ``'minmax'``, because dividing
    signed scores by their largest magnitude leaves a space whose scores
    are mostly negative far below the others); the lowest ``ratio`` of all
    units go, each space keeping at least ``min_channels`` and
    ``ceil(min_keep_fraction * n)``."""
    names = list(sizes)
    normalised = normalise_spaces(scores, diff_norm, names)
    norm = []
    for i, name in enumerate(names):
        s = normalised[name]
        norm.append(torch.stack([s, torch.full_like(s, i),
                                 torch.arange(len(s)).double()], 1))
    allu = torch.cat(norm)
    order = torch.sort(allu[:, 0], stable=True).indices
    total = allu.shape[0]
    to_remove = int(round(ratio * total))
    left = {name: sizes[name] for name in names}
    floor = {name: min(sizes[name], max(
        1, min_channels, math.ceil(min_keep_fraction * sizes[name] - 1e-9)))
        for name in names}
    removed = 0
    for j in order.tolist():
        if removed >= to_remove:
            break
        name = names[int(allu[j, 1])]
        if left[name] > floor[name]:
            left[name] -= 1
            removed += 1
    out = {}
    for name in names:
        n, k = sizes[name], left[name]
        if divisor > 1:
            k = round_width(n, k, divisor, min_channels, split_narrow)
            while k < floor[name]:
                k = next_width(n, k, divisor, split_narrow)
        out[name] = top_k(scores[name], k)
    return out
