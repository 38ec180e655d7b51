import torch
from torch import Tensor

from ..registry import METRICS
from .feature_metric import FeatureMetric


@METRICS.register_module()
class APoZMetric(FeatureMetric):
    """Average Percentage of Zeros after ReLU ("Network Trimming", Hu et
    al., 2016), turned into an importance: ``score = 1 - APoZ``, the share
    of positions where the channel is active.

    Args:
        relu (bool): Count ``x <= 0`` as zero (features taken before the
            ReLU, e.g. at a norm layer); False counts exact zeros of
            features that are already post-ReLU.
    """

    def __init__(self, relu: bool = True):
        self.relu = relu

    def batch_stats(self, features, labels, grads):
        x = self.check_features(features).flatten(2)
        active = x > 0 if self.relu else x != 0
        return dict(active=active.sum(dim=(0, 2), dtype=torch.float64),
                    count=x.new_tensor(float(x.shape[0] * x.shape[2]),
                                       dtype=torch.float64))

    def finalize(self, stats) -> Tensor:
        return stats['active'] / stats['count']

    def __repr__(self) -> str:
        return f'APoZMetric(relu={self.relu})'
