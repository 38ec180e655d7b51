"""Subnet sampling, a part of :class:`ChannelPruner`: which channels each
space keeps, from per-space scores (uniform ratio, one global ranking,
ratios per space, or a FLOPs target)."""
import warnings
from typing import Dict, List, Sequence, Union

import torch

from . import subnets

Subnet = Dict[str, List[int]]


class SubnetSampler:
    """Subnets of the prunable spaces of ``table`` from per-space scores.

    Args:
        table: the prunable spaces (``space_table.SpaceTable``).
        flops_params: ``subnet -> (flops, params)``, for FLOPs targets.
        min_channels: fewest units any space keeps, >= 1.
        divisor: kept counts are rounded to a multiple of it.
        min_keep_fraction: in :meth:`sample_subnet_diff`, every space
            keeps at least this fraction of its units.
        diff_norm: how :meth:`sample_subnet_diff` makes spaces
            comparable (``subnets.DIFF_NORMS``).
    """

    def __init__(self, table, flops_params=None, min_channels: int = 1,
                 divisor: int = 1, min_keep_fraction: float = 0.0,
                 diff_norm: str = 'auto'):
        self.table, self.flops_params = table, flops_params
        self.min_channels, self.divisor = min_channels, divisor
        self.min_keep_fraction, self.diff_norm = min_keep_fraction, diff_norm

    # ------------------------------------------------------------ sampling
    def _sizes(self):
        return self.table.sizes()

    def _scores(self, scores):
        sizes = self._sizes()
        if scores is None:
            return {n: torch.zeros(k) for n, k in sizes.items()}
        for n, k in sizes.items():
            if n not in scores or scores[n].numel() != k:
                raise ValueError(f'scores for space {n!r} missing or not of '
                                 f'length {k}')
        return scores

    def sample_subnet_uniform(self, ratio: float, scores=None) -> Subnet:
        """Remove ``ratio`` of the channels of every space (lowest scores;
        ``scores=None`` keeps the first channels of each space, which is
        not a random choice: for that, pass the scores of
        ``get_metric_local(dict(type='RandomMetric', seed=s))``)."""
        ratio = subnets.check_ratio(ratio)
        return self.sample_subnet_nonuni(
            {n: ratio for n in self._sizes()}, scores)

    def sample_subnet_diff(self, ratio: float, scores=None) -> Subnet:
        """Remove ``ratio`` of all prunable channels by one global ranking of
        per-space normalised scores (``scores=None``: all equal, the first
        channels of each space are kept; not random)."""
        ratio = subnets.check_ratio(ratio)
        return subnets.sample_diff(self._sizes(), ratio,
                                    self._scores(scores), self.min_channels,
                                    self.divisor, self.min_keep_fraction,
                                    self.diff_norm)

    def sample_subnet_nonuni(self, ratios: Union[Dict[str, float],
                                                 Sequence[float]],
                             scores=None) -> Subnet:
        """Remove ``ratios[space]`` of each space's channels; a list is taken
        in :meth:`space_names` order and must have one entry per space;
        spaces missing from a dict keep all their channels
        (``scores=None``: the first channels of each space are kept)."""
        sizes = self._sizes()
        if isinstance(ratios, dict):
            unknown = [n for n in ratios if n not in sizes]
            if unknown:
                raise ValueError(f'unknown space names in ratios: {unknown}')
        else:
            ratios = list(ratios)
            if len(ratios) != len(sizes):
                raise ValueError(f'got {len(ratios)} ratios for '
                                 f'{len(sizes)} prunable spaces')
            ratios = dict(zip(sizes, ratios))
        ratios = {n: subnets.check_ratio(r, f'ratio of {n}')
                  for n, r in ratios.items()}
        return subnets.sample_nonuni(sizes, ratios, self._scores(scores),
                                      self.min_channels, self.divisor)

    def sample_subnet_flops(self, target: float, scores=None,
                            mode: str = 'diff', tolerance: float = 0.02,
                            steps: int = 40) -> Subnet:
        """Subnet removing about ``target`` of the FLOPs (0.5 halves them).

        A bisection over the ratio of :meth:`sample_subnet_diff` (or
        ``_uniform``); warns when the reduction reached is off by more than
        ``tolerance * target``.
        """
        target = subnets.check_ratio(target, 'FLOPs target')
        sample = {'diff': self.sample_subnet_diff,
                  'uniform': self.sample_subnet_uniform}[mode]
        full = self.flops_params({})[0]
        lo, hi, best, best_err = 0.0, 0.999, None, None
        for _ in range(steps):
            mid = (lo + hi) / 2
            sub = sample(mid, scores)
            red = 1 - self.flops_params(sub)[0] / full
            err = abs(red - target)
            if best_err is None or err < best_err:
                best, best_err = sub, err
            if err <= tolerance * target * 0.25:
                break
            lo, hi = (mid, hi) if red < target else (lo, mid)
        if best_err > tolerance * max(target, 1e-12):
            warnings.warn(f'FLOPs reduction reached differs from {target} '
                          f'by {best_err:.4f}')
        return best
