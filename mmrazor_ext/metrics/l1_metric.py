from torch import Tensor

from ..registry import METRICS
from .base_metric import BaseMetric


@METRICS.register_module()
class L1Metric(BaseMetric):
    """L1 norm of each output filter ("Pruning Filters for Efficient
    ConvNets", Li et al., 2017).

    Examples:
        >>> import torch
        >>> L1Metric()({'conv': torch.ones(4, 3, 3, 3)})['conv']
        tensor([27., 27., 27., 27.])
    """

    input_kind = 'conv_weight'

    def score(self, tensor: Tensor) -> Tensor:
        return tensor.abs().flatten(1).sum(dim=1)
