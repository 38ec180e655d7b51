import torch
from torch import Tensor

from ..registry import METRICS
from .feature_metric import FeatureMetric


@METRICS.register_module()
class MeanActivationMetric(FeatureMetric):
    """Mean activation of each channel over images and positions
    ("Pruning Convolutional Neural Networks for Resource Efficient
    Inference", Molchanov et al., 2017, their activation baseline).

    Args:
        relu (bool): Apply ReLU first: hooked layers are usually norm
            layers whose ReLU follows, and the criterion is defined on
            post-activation values.
    """

    def __init__(self, relu: bool = True):
        self.relu = relu

    def batch_stats(self, features, labels, grads):
        x = self.check_features(features).flatten(2)  # [N, C, positions]
        if self.relu:
            x = x.clamp_min(0)
        return dict(sum=x.sum(dim=(0, 2), dtype=torch.float64),
                    count=x.new_tensor(float(x.shape[0] * x.shape[2]),
                                       dtype=torch.float64))

    def finalize(self, stats) -> Tensor:
        return stats['sum'] / stats['count']

    def __repr__(self) -> str:
        return f'MeanActivationMetric(relu={self.relu})'
