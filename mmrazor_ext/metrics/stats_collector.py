"""Running statistics of one layer, fed batch by batch."""
from typing import Dict, Optional

import torch
import torch.distributed as dist
from torch import Tensor

from ..utils import is_distributed

Stats = Dict[str, Tensor]


class StatsCollector:
    """Folds each batch into running sums, then scores from the sums.

    What to sum and how to score is the metric's business
    (:meth:`FeatureMetric.batch_stats` / :meth:`FeatureMetric.finalize`);
    this class only adds batches up, so memory does not grow with the number
    of images. Under ``torch.distributed`` the sums of all ranks are added
    (all-reduce SUM) before scoring, so every rank gets the scores of all
    images. ``compute`` is then a collective: call it on every rank, for the
    layers in the same order, after every rank has seen at least one batch.

    Args:
        metric: The :class:`FeatureMetric` this collector serves.
        sync (bool): All-reduce across ranks when distributed is
            initialised.

    Examples:
        >>> import torch
        >>> from mmrazor_ext.metrics import build_metric
        >>> collector = build_metric('MeanActivationMetric').collector()
        >>> for batch in torch.ones(4, 2, 3, 1, 1).unbind():
        ...     collector.update(batch)
        >>> collector.compute()
        tensor([1., 1., 1.])
    """

    def __init__(self, metric, sync: bool = True):
        self.metric = metric
        self.sync = sync
        self.stats: Stats = {}
        self.num_batches = 0

    def update(self, features, labels: Optional[Tensor] = None,
               grads: Optional[Tensor] = None) -> None:
        """Add one batch.

        Args:
            features: ``[N, C, ...]`` features of the layer (a pair
                ``(input, output)`` for block metrics); not modified.
            labels: ``[N]`` class indices, for class-aware metrics.
            grads: Gradient of the loss w.r.t. ``features``, for
                gradient metrics.
        """
        with torch.no_grad():
            batch = self.metric.batch_stats(features, labels, grads)
        for key, value in batch.items():
            old = self.stats.get(key)
            if old is None:
                self.stats[key] = value.detach().clone()
                continue
            if old.shape != value.shape:
                old, value = self._pad(key, old, value)
            self.stats[key] = old + value
        self.num_batches += 1

    def _pad(self, key, old: Tensor, new: Tensor):
        """Zero-pads dim 0 of growable statistics (e.g. classes seen so
        far); any other shape change is the caller's error."""
        if key not in self.metric.growable_stats or \
                old.shape[1:] != new.shape[1:]:
            raise ValueError(
                f'{type(self.metric).__name__}: statistic {key!r} has shape '
                f'{list(new.shape)} in this batch but {list(old.shape)} '
                f'before; the layer changed its number of channels?')
        size = max(old.shape[0], new.shape[0])
        return _pad0(old, size), _pad0(new, size)

    def reduced_stats(self) -> Stats:
        """The statistics of all ranks (a copy; the running sums stay
        local so ``compute`` may be called again)."""
        if not self.stats:
            raise RuntimeError(
                f'{type(self.metric).__name__}: no batch was collected; '
                f'call update() with features before compute()')
        stats = {k: v.clone() for k, v in self.stats.items()}
        if not (self.sync and is_distributed()):
            return stats
        for key in sorted(stats):
            value = stats[key]
            if key in self.metric.growable_stats:
                size = torch.tensor([value.shape[0]], dtype=torch.long,
                                    device=value.device)
                dist.all_reduce(size, op=dist.ReduceOp.MAX)
                value = _pad0(value, int(size))
            dist.all_reduce(value, op=dist.ReduceOp.SUM)
            stats[key] = value
        return stats

    def compute(self) -> Tensor:
        """1-D float scores from the statistics of all batches (and
        ranks)."""
        return self.metric.finalize(self.reduced_stats()).float().flatten()


def _pad0(value: Tensor, size: int) -> Tensor:
    if value.shape[0] == size:
        return value
    pad = value.new_zeros((size - value.shape[0], ) + tuple(value.shape[1:]))
    return torch.cat([value, pad])
