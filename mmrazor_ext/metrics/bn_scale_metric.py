from torch import Tensor

from ..registry import METRICS
from .base_metric import BaseMetric


@METRICS.register_module()
class BNScaleMetric(BaseMetric):
    """|gamma| of the norm layer after each channel ("Learning Efficient
    Convolutional Networks through Network Slimming", Liu et al., 2017).

    The caller passes the norm layer's affine weight, not the conv weight.

    Examples:
        >>> import torch
        >>> BNScaleMetric()({'bn': torch.tensor([-2., 0.5])})['bn']
        tensor([2.0000, 0.5000])
    """

    input_kind = 'norm_weight'

    def score(self, tensor: Tensor) -> Tensor:
        return tensor.abs()
