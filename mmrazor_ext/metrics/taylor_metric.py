import torch
from torch import Tensor

from ..registry import METRICS
from .feature_metric import FeatureMetric


@METRICS.register_module()
class TaylorMetric(FeatureMetric):
    """First-order Taylor estimate of the loss change when a channel is
    removed ("Pruning Convolutional Neural Networks for Resource Efficient
    Inference", Molchanov et al., 2017).

    Per image: ``|mean over positions of activation * gradient|``, averaged
    over images. ``grads`` must be the gradient of each image's own loss
    (the collection helper back-propagates the summed, not averaged, loss
    so scores do not depend on the batch size).
    """

    needs_grads = True

    def batch_stats(self, features, labels, grads):
        x = self.check_features(features)
        if grads is None:
            raise ValueError('TaylorMetric needs grads (d loss / d features '
                             'of the same layer); collect with a backward '
                             'pass')
        if not isinstance(grads, Tensor) or grads.shape != x.shape:
            raise ValueError(f'TaylorMetric: grads must match features '
                             f'{list(x.shape)}, got '
                             f'{list(getattr(grads, "shape", []))}')
        taylor = (x * grads.detach()).flatten(2).mean(dim=2).abs()  # [N, C]
        return dict(sum=taylor.sum(dim=0, dtype=torch.float64),
                    count=x.new_tensor(float(x.shape[0]),
                                       dtype=torch.float64))

    def finalize(self, stats) -> Tensor:
        return stats['sum'] / stats['count']
