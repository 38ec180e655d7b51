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
  a :class:`StatsCollector` (see ``feature_metric.py``).
"""
from typing import Dict

import torch
from torch import Tensor


class BaseMetric:
    """Base of all metrics: a small, stateless callable.

    Subclasses implement :meth:`score` for one layer's tensor.
    """

    #: What each layer's tensor in ``contents`` must be, see module doc.
    input_kind = 'conv_weight'

    def __call__(self, contents: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Score every layer in ``contents``.

        Args:
            contents: ``{layer_name: tensor}``, as described by
                :attr:`input_kind`.

        Returns:
            ``{layer_name: 1-D float tensor}``, one score per channel.
        """
        if not isinstance(contents, dict):
            raise TypeError(f'{type(self).__name__} expects a dict '
                            f'{{layer_name: tensor}}, got {type(contents)}')
        scores = {}
        for name, tensor in contents.items():
            with torch.no_grad():
                score = self.score(tensor.detach())
            scores[name] = score.float().flatten()
        return scores

    def score(self, tensor: Tensor) -> Tensor:
        """Scores of one layer; must not modify ``tensor``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'
