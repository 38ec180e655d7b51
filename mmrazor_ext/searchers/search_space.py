"""The search space of HybridSearch: one discrete keep ratio per prunable
channel space. The ratio says how many channels a space keeps (rounded as
the Pruner rounds: ``divisor``, ``min_channels``); the metric's scores say
which ones."""
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ..pruners.sampling.subnets import kept_count
from ..utils import UserInputError


def default_keep_ratios() -> List[float]:
    """0.1, 0.15, ..., 1.0."""
    return [round(0.1 + 0.05 * i, 2) for i in range(19)]


def check_keep_ratios(choices) -> List[float]:
    """Sorted distinct keep ratios, each in (0, 1]; a one-line error
    otherwise."""
    if isinstance(choices, (str, bytes)) or \
            not hasattr(choices, '__iter__'):
        raise UserInputError(f'searcher keep_ratios must be a list of '
                             f'numbers in (0, 1], got {choices!r}')
    choices = list(choices)
    if not choices:
        raise UserInputError('searcher keep_ratios is empty: give keep '
                             'ratios in (0, 1], e.g. [0.25, 0.5, 0.75, 1.0]')
    bad = [c for c in choices if isinstance(c, bool) or
           not isinstance(c, (int, float)) or not 0 < c <= 1]
    if bad:
        raise UserInputError(f'searcher keep_ratios {bad} out of range: each '
                             'is the fraction of a space\'s channels kept, '
                             'in (0, 1]')
    return sorted(set(float(c) for c in choices))


class KeepRatioSpace:
    """Genomes (one choice index per prunable space) and the subnets they
    stand for.

    Args:
        pruner: A prepared ``ChannelPruner``.
        choices (sequence[float]): Keep ratios each space chooses from.
    """

    def __init__(self, pruner, choices: Sequence[float]):
        self.pruner = pruner
        self.choices = check_keep_ratios(choices)
        self.names = pruner.space_names()
        self.sizes = [sp.num_channels for sp in pruner.prunable_spaces]
        # kept channels per (space, choice), as the pruner rounds them
        divisors = pruner.sampler.unit_divisors()
        self.table = np.array([[kept_count(n, 1 - r, pruner.min_channels,
                                           divisors[name])
                                for r in self.choices]
                               for name, n in zip(self.names, self.sizes)])

    @property
    def dim(self) -> int:
        return len(self.names)

    @property
    def num_choices(self) -> int:
        return len(self.choices)

    def counts(self, genome) -> Tuple[int, ...]:
        """Kept channels per space: the candidate's identity (two genomes
        that round to the same widths are the same candidate)."""
        return tuple(int(self.table[i, g]) for i, g in enumerate(genome))

    def keep_ratios(self, genome) -> Dict[str, float]:
        return {n: self.choices[int(g)] for n, g in zip(self.names, genome)}

    def subnet(self, counts: Sequence[int], scores) -> Dict[str, List[int]]:
        """The best-scored ``counts[i]`` channels of each space."""
        ratios = {n: 1 - k / size for n, k, size in
                  zip(self.names, counts, self.sizes)}
        return self.pruner.sample_subnet_nonuni(ratios, scores)

    def uniform_genome(self, index: int) -> List[int]:
        return [index] * self.dim

    def describe(self) -> dict:
        return dict(spaces=dict(zip(self.names, self.sizes)),
                    keep_ratios=self.choices,
                    min_channels=self.pruner.min_channels,
                    divisor=self.pruner.divisor)
