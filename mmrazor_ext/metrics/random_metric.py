import hashlib
from typing import Dict

import torch
from torch import Tensor

from ..registry import METRICS
from .base_metric import BaseMetric, check_contents, check_weight


def _generator(seed: int, name: str) -> torch.Generator:
    """A generator of its own per ``(seed, layer name)``: a hash of both,
    so no other pair shares its stream (``seed * k + crc32(name)`` would
    give seed 1 of one layer the draw of seed 0 of another). blake2b, unlike
    ``hash()``, does not change between processes."""
    digest = hashlib.blake2b(f'{seed}/{name}'.encode(),
                             digest_size=8).digest()
    return torch.Generator().manual_seed(
        int.from_bytes(digest, 'little') >> 1)  # manual_seed takes < 2**63


@METRICS.register_module()
class RandomMetric(BaseMetric):
    """Random channel order: the baseline every criterion must beat.

    Each layer's scores are a random permutation of ``1/n, 2/n, ..., 1``
    (``n`` channels): no ties, so the channels kept at any ratio are a
    uniformly random subset. The permutation is drawn afresh for each
    ``seed`` and layer name, and depends on nothing else (not on the order
    of the layers, nor on global random state): a run is reproducible, and
    another seed gives another subnet.

    Args:
        seed (int): Seed of the permutation.

    Examples:
        >>> import torch
        >>> w = {'conv': torch.zeros(4, 1, 1, 1)}
        >>> sorted(RandomMetric(1)(w)['conv'].tolist())
        [0.25, 0.5, 0.75, 1.0]
        >>> torch.equal(RandomMetric(1)(w)['conv'], RandomMetric(1)(w)['conv'])
        True
    """

    input_kind = 'conv_weight'

    def __init__(self, seed: int = 0):
        self.seed = int(seed)

    def __call__(self, contents: Dict[str, Tensor]) -> Dict[str, Tensor]:
        check_contents(self, contents)
        scores = {}
        for name, tensor in contents.items():
            check_weight(self, name, tensor)
            n = tensor.shape[0]
            order = torch.randperm(n, generator=_generator(self.seed, name))
            scores[name] = (order + 1).float() / n
        return scores

    def __repr__(self) -> str:
        return f'RandomMetric(seed={self.seed})'
