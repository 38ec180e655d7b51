"""Contract shared by every importance criterion.

A metric maps ``contents = {layer_name: tensor}`` to
``{layer_name: 1-D tensor of scores}`` (higher = more important). It keeps no
state between calls and never changes the caller's tensors.

``input_kind`` tells the caller (the Pruner) what each layer's tensor is:

- ``'conv_weight'``: the weight of the layer producing the channels
  (conv ``[out, in/groups, k, k]`` or linear ``[out, in]``); one score per
  output channel.
- ``'norm_weight'``: the affine scale (gamma) of the norm layer that follows
  the producer; one score per channel.
- ``'feature'``: output features ``[N, C, ...]`` of the layer, seen through
  a :class:`StatsCollector` (see ``feature_metric.py``); one score per
  channel.
- ``'block_feature'``: a pair ``(input, output)`` of a block's features;
  one score for the whole block (layer-level metrics, used by Fusion).
"""
from typing import Dict

import torch
from torch import Tensor

#: Every value :attr:`BaseMetric.input_kind` may take.
INPUT_KINDS = ('conv_weight', 'norm_weight', 'feature', 'block_feature')
WEIGHT_KINDS = ('conv_weight', 'norm_weight')


class BaseMetric:
    """Base of all metrics: a small, stateless callable.

    Weight metrics implement :meth:`score` for one layer's tensor.
    """

    #: What each layer's tensor in ``contents`` must be, see module doc.
    input_kind = 'conv_weight'
    #: How the pruner's global ranking (``sample_subnet_diff`` under its
    #: default ``diff_norm='auto'``) compares this metric's scores across
    #: channel spaces: None (by magnitude: ``'max'``, ``'minmax'`` for
    #: signed scores) or a ``diff_norm`` name (``'rank'``, ...).
    diff_norm = None

    def __call__(self, contents: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Score every layer in ``contents``.

        Args:
            contents: ``{layer_name: tensor}``, as described by
                :attr:`input_kind`.

        Returns:
            ``{layer_name: 1-D float tensor}``, one score per channel.
        """
        check_contents(self, contents)
        scores = {}
        for name, tensor in contents.items():
            check_weight(self, name, tensor)
            with torch.no_grad():
                score = self.score(tensor.detach())
            scores[name] = score.float().flatten()
        return scores

    def score(self, tensor: Tensor) -> Tensor:
        """Scores of one layer; must not modify ``tensor``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'


def check_contents(metric: BaseMetric, contents) -> None:
    """One-line error unless ``contents`` is a non-empty dict."""
    if not isinstance(contents, dict):
        raise TypeError(f'{type(metric).__name__} expects a dict '
                        f'{{layer_name: tensor}}, got {type(contents)}')


def check_weight(metric: BaseMetric, name: str, tensor) -> None:
    """One-line error unless ``tensor`` is a weight of the metric's kind."""
    kind, metric_name = metric.input_kind, type(metric).__name__
    if not isinstance(tensor, Tensor):
        raise TypeError(f'{metric_name}: layer {name!r} must be a tensor '
                        f'({kind}), got {type(tensor).__name__}')
    if kind == 'conv_weight' and tensor.dim() < 2:
        raise ValueError(f'{metric_name}: layer {name!r} needs a conv/linear '
                         f'weight [out, in, ...], got shape '
                         f'{list(tensor.shape)}')
    if kind == 'norm_weight' and tensor.dim() != 1:
        raise ValueError(f'{metric_name}: layer {name!r} needs a 1-D norm '
                         f'weight (gamma), got shape {list(tensor.shape)}')
