import torch
from torch import Tensor

from ..registry import METRICS
from .base_metric import BaseMetric


@METRICS.register_module()
class FPGMMetric(BaseMetric):
    """Distance of each filter to the others ("Filter Pruning via Geometric
    Median", He et al., 2019).

    Filters near the geometric median of a layer are the ones the other
    filters can stand in for; the sum of Euclidean distances to all filters
    is the criterion the paper uses to find them, so a small sum means a
    replaceable (unimportant) filter.

    Examples:
        >>> import torch
        >>> w = torch.tensor([[0.], [1.], [3.]])
        >>> FPGMMetric()({'fc': w})['fc']
        tensor([4., 3., 5.])
    """

    input_kind = 'conv_weight'

    def score(self, tensor: Tensor) -> Tensor:
        flat = tensor.flatten(1).double()
        # The matmul shortcut of cdist loses precision for near-equal filters
        # and would make the ranking depend on the BLAS used.
        dist = torch.cdist(flat, flat,
                           compute_mode='donot_use_mm_for_euclid_dist')
        return dist.sum(dim=1)
