import zlib
from typing import Dict

import torch
from torch import Tensor

from ..registry import METRICS
from .base_metric import BaseMetric, check_contents, check_weight


@METRICS.register_module()
class RandomMetric(BaseMetric):
    """Uniform random scores: the baseline every criterion must beat.

    Scores depend only on ``seed`` and the layer name (not on the order of
    the layers, nor on global random state), so a run is reproducible.

    Args:
        seed (int): Seed of the generator.

    Examples:
        >>> import torch
        >>> w = {'conv': torch.zeros(3, 1, 1, 1)}
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
            # crc32, unlike hash(), does not change between processes.
            gen = torch.Generator().manual_seed(
                self.seed * 1_000_003 + zlib.crc32(name.encode()))
            scores[name] = torch.rand(tensor.shape[0], generator=gen)
        return scores

    def __repr__(self) -> str:
        return f'RandomMetric(seed={self.seed})'
