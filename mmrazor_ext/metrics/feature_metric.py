"""Base of metrics computed from features seen over many images."""
from typing import Dict, Optional, Tuple

from torch import Tensor

from .base_metric import BaseMetric, check_contents
from .stats_collector import Stats, StatsCollector


class FeatureMetric(BaseMetric):
    """A metric of features, computed from running statistics.

    Subclasses say what one batch adds (:meth:`batch_stats`, sums only, so
    batches and ranks can be added up) and how the sums become scores
    (:meth:`finalize`). Data reaches them through :meth:`collector`; calling
    the metric on whole feature tensors is the same as one collector fed one
    batch per layer.
    """

    input_kind = 'feature'
    #: ``update`` needs ``labels`` (class-aware metrics).
    needs_labels = False
    #: ``update`` needs ``grads`` (the collection runs a backward pass).
    needs_grads = False
    #: Statistics whose dim 0 may grow between batches (padded with zeros).
    growable_stats = ()

    def collector(self, sync: bool = True) -> StatsCollector:
        """A fresh collector for one layer.

        Args:
            sync (bool): All-reduce the statistics across ranks before
                ``compute`` when torch.distributed is initialised.
        """
        return StatsCollector(self, sync=sync)

    def __call__(self, contents: Dict[str, Tensor],
                 labels: Optional[Tensor] = None,
                 grads: Optional[Dict[str, Tensor]] = None
                 ) -> Dict[str, Tensor]:
        """Score every layer from all its features at once (local only, no
        all-reduce), or from collectors that already saw the data.

        Args:
            contents: ``{layer_name: features}`` (``[N, C, ...]``, or an
                ``(input, output)`` pair for block metrics), or
                ``{layer_name: StatsCollector}`` of this metric (from
                :func:`collect_statistics`), scored with their ``compute()``
                (all-reduced if they sync). A caller that only passes
                ``contents`` (the Pruner) gets class- and gradient-aware
                scores this way.
            labels: ``[N]`` class indices shared by all layers.
            grads: ``{layer_name: gradient of the loss w.r.t. features}``.

        Returns:
            ``{layer_name: 1-D float tensor}`` of scores.
        """
        check_contents(self, contents)
        collectors = {k: v for k, v in contents.items()
                      if isinstance(v, StatsCollector)}
        if collectors:
            return self._from_collectors(contents, collectors)
        if self.needs_grads and grads is None:
            raise ValueError(f'{type(self).__name__} needs grads= '
                             f'{{layer: d loss / d features}}')
        scores = {}
        for name, features in contents.items():
            collector = self.collector(sync=False)
            collector.update(features, labels,
                             None if grads is None else grads[name])
            scores[name] = collector.compute()
        return scores

    def _from_collectors(self, contents, collectors) -> Dict[str, Tensor]:
        name = type(self).__name__
        if len(collectors) != len(contents):
            raise TypeError(f'{name}: contents mixes collectors and tensors')
        for layer, collector in collectors.items():
            if type(collector.metric) is not type(self):
                raise TypeError(
                    f'{name}: the collector of {layer!r} was filled by '
                    f'{type(collector.metric).__name__}')
        # the collector's own metric holds the options it was filled with
        return {layer: c.compute() for layer, c in collectors.items()}

    def batch_stats(self, features, labels: Optional[Tensor],
                    grads: Optional[Tensor]) -> Stats:
        """Sums contributed by one batch (float64 tensors)."""
        raise NotImplementedError

    def finalize(self, stats: Stats) -> Tensor:
        """Scores from the summed statistics."""
        raise NotImplementedError

    # helpers shared by the channel metrics
    def check_features(self, features, min_dim: int = 2) -> Tensor:
        name = type(self).__name__
        if not isinstance(features, Tensor):
            raise TypeError(f'{name} expects a feature tensor [N, C, ...], '
                            f'got {type(features).__name__}')
        if features.dim() < min_dim:
            raise ValueError(f'{name} expects features with at least '
                             f'{min_dim} dims [N, C, ...], got shape '
                             f'{list(features.shape)}')
        return features.detach()

    def check_block(self, features) -> Tuple[Tensor, Tensor]:
        """``(input, output)`` of a block, both ``[N, ...]``."""
        name = type(self).__name__
        if not (isinstance(features, (tuple, list)) and len(features) == 2
                and all(isinstance(f, Tensor) for f in features)):
            raise TypeError(f'{name} scores a block from its (input, output) '
                            f'features; got {type(features).__name__}')
        inp, out = (f.detach() for f in features)
        if inp.shape[0] != out.shape[0]:
            raise ValueError(f'{name}: input has {inp.shape[0]} images, '
                             f'output {out.shape[0]}')
        return inp, out
