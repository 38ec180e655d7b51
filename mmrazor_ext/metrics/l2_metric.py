from torch import Tensor

from ..registry import METRICS
from .base_metric import BaseMetric


@METRICS.register_module()
class L2Metric(BaseMetric):
    """L2 norm of each output filter (the L2 variant of Li et al., 2017,
    used by soft filter pruning, He et al., 2018).

    Examples:
        >>> import torch
        >>> L2Metric()({'conv': torch.ones(2, 1, 2, 2)})['conv']
        tensor([2., 2.])
    """

    input_kind = 'conv_weight'

    def score(self, tensor: Tensor) -> Tensor:
        return tensor.flatten(1).norm(p=2, dim=1)
