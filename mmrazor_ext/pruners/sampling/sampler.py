"""Subnet sampling, a part of :class:`ChannelPruner`: which channels each
space keeps, from per-space scores (uniform ratio, one global ranking,
ratios per space, or a FLOPs target)."""
import contextlib
import warnings
from typing import Dict, List, Sequence, Union

import torch

from . import subnets
from .width_rounding import widen_to_budget

Subnet = Dict[str, List[int]]


class SubnetSampler:
    """Subnets of the prunable spaces of ``table`` from per-space scores.

    Args:
        table: the prunable spaces (``space_table.SpaceTable``).
        flops_params: ``subnet -> (flops, params)``, for FLOPs targets.
        min_channels: fewest units any space keeps, >= 1.
        divisor: kept counts are rounded to a multiple of it, or the
            whole space (``width_rounding.py``).
        min_keep_fraction: in :meth:`sample_subnet_diff`, every space
            keeps at least this fraction of its units.
        diff_norm: how :meth:`sample_subnet_diff` makes spaces
            comparable (``subnets.DIFF_NORMS``).
        split_narrow: spaces not wider than the divisor are rounded to a
            halved divisor instead of kept whole (``width_rounding.py``);
            :meth:`sample_subnet_flops` does so by itself, with a warning,
            for a target it cannot reach otherwise.
    """

    def __init__(self, table, flops_params=None, min_channels: int = 1,
                 divisor: int = 1, min_keep_fraction: float = 0.0,
                 diff_norm: str = 'auto', split_narrow: bool = False):
        self.table, self.flops_params = table, flops_params
        self.min_channels, self.divisor = min_channels, divisor
        self.min_keep_fraction, self.diff_norm = min_keep_fraction, diff_norm
        self.split_narrow = split_narrow

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
                                    self.diff_norm, self.split_narrow)

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
                                      self.min_channels, self.divisor,
                                      self.split_narrow)

    @contextlib.contextmanager
    def _narrow_spaces_split(self):
        before = self.split_narrow
        self.split_narrow = True
        try:
            yield
        finally:
            self.split_narrow = before

    def max_flops_reduction(self) -> float:
        """The largest fraction of the FLOPs a subnet can remove: every
        space at its narrowest width (``min_channels``, rounded; narrow
        spaces split as :meth:`sample_subnet_flops` splits them when it
        must)."""
        with self._narrow_spaces_split():
            narrowest = self.sample_subnet_uniform(0.999)
        return 1 - self.flops_params(narrowest)[0] / \
            self.flops_params({})[0]

    def sample_subnet_flops(self, target: float, scores=None,
                            mode: str = 'diff', tolerance: float = 0.02,
                            steps: int = 40) -> Subnet:
        """Subnet removing at least ``target`` of the FLOPs (0.5 halves
        them): its FLOPs never exceed ``(1 - target)`` of the unpruned
        model's, whatever the rounding to ``divisor``.

        A bisection over the ratio of :meth:`sample_subnet_diff` (or
        ``_uniform``) finds the least pruned subnet within that budget;
        when rounding left it more than a quarter of ``tolerance * target``
        below the budget, channels are given back one divisor step of
        one space at a time (``width_rounding.widen_to_budget``: for
        ``'uniform'`` the spaces keeping the smallest fraction first, for
        ``'diff'`` those whose next channel ranks highest) while the
        budget holds. When keeping the spaces not wider than the divisor
        whole cannot reach ``target``, they are split (see
        ``width_rounding.py``), with a warning. Warns when the reduction
        reached exceeds the target by more than ``tolerance * target``,
        or when even the narrowest subnet misses it.
        """
        target = subnets.check_ratio(target, 'FLOPs target')
        sample = {'diff': self.sample_subnet_diff,
                  'uniform': self.sample_subnet_uniform}[mode]
        full = self.flops_params({})[0]
        narrowest = sample(0.999, scores)
        most = 1 - self.flops_params(narrowest)[0] / full
        if most < target and self.divisor > 1 and not self.split_narrow:
            with self._narrow_spaces_split():
                split_most = 1 - self.flops_params(
                    sample(0.999, scores))[0] / full
                if split_most > most:
                    warnings.warn(
                        f'FLOPs target {target} needs the spaces not wider '
                        f'than divisor {self.divisor} pruned too (kept '
                        f'whole, at most {most:.1%} of the FLOPs go): they '
                        'are rounded to a halved divisor')
                    return self.sample_subnet_flops(target, scores, mode,
                                                    tolerance, steps)
        if most < target:
            warnings.warn(f'FLOPs target {target} cannot be reached: the '
                          f'narrowest subnet removes {most:.4f}')
            return narrowest
        return self._flops_search(target, scores, sample, mode, full,
                                  (narrowest, most), tolerance, steps)

    def _flops_search(self, target, scores, sample, mode, full, start,
                      tolerance, steps) -> Subnet:
        """The bisection and widening of :meth:`sample_subnet_flops`;
        ``start`` is a subnet within budget and its reduction."""
        budget = (1 - target) * full * (1 + 1e-9)

        def reduction(sub):
            return 1 - self.flops_params(sub)[0] / full

        best, best_red = start
        close = tolerance * target * 0.25
        lo, hi = 0.0, 0.999
        for _ in range(steps):
            if best_red - target <= close:
                break
            mid = (lo + hi) / 2
            sub = sample(mid, scores)
            red = reduction(sub)
            if red >= target:
                hi = mid
                if red < best_red:
                    best, best_red = sub, red
            else:
                lo = mid
        if best_red - target > close:
            best = self._widen(best, scores, mode, budget,
                               (1 - target - close) * full)
            best_red = reduction(best)
        if best_red - target > tolerance * max(target, 1e-12):
            warnings.warn(f'FLOPs reduction reached ({best_red:.4f}) exceeds '
                          f'the target {target} by more than {tolerance:.0%}'
                          f' (divisor {self.divisor})')
        return best

    def _widen(self, subnet: Subnet, scores, mode: str, budget: float,
               enough: float) -> Subnet:
        """``subnet`` with channels given back while its FLOPs stay within
        ``budget``, until they reach ``enough`` (see
        :meth:`sample_subnet_flops`)."""
        sizes, scores = self._sizes(), self._scores(scores)
        counts = {n: len(subnet[n]) for n in sizes}
        if mode == 'uniform':
            def order(c):
                return sorted(sizes, key=lambda n: c[n] / sizes[n])
        else:
            norm = subnets.normalise_spaces(scores, self.diff_norm)
            ranked = {n: torch.sort(s, descending=True, stable=True).values
                      for n, s in norm.items()}

            def order(c):
                nxt = {n: float(ranked[n][c[n]]) for n in sizes
                       if c[n] < sizes[n]}
                return sorted(nxt, key=lambda n: -nxt[n])

        def subnet_of(c):
            return {n: subnets.top_k(scores[n], k) for n, k in c.items()}

        counts = widen_to_budget(
            counts, sizes, self.divisor,
            lambda c: self.flops_params(subnet_of(c))[0], budget, enough,
            order, split_narrow=self.split_narrow)
        return subnet_of(counts)
