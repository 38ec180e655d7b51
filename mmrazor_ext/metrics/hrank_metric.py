import torch
from torch import Tensor

from ..registry import METRICS
from .feature_metric import FeatureMetric


@METRICS.register_module()
class HRankMetric(FeatureMetric):
    """Average rank of each channel's feature map ("HRank: Filter Pruning
    using High-Rank Feature Map", Lin et al., 2020).

    Each image's ``H x W`` map is one matrix; its numerical rank
    (``torch.linalg.matrix_rank``, default tolerance) is averaged over
    images.

    Args:
        relu (bool): Rank the maps after ReLU, as the authors' code hooks
            post-activation outputs.
    """

    # A map's rank is bounded by its size (32, 16, 8 in a CIFAR ResNet's
    # stages) and takes few values in small maps: magnitudes do not compare
    # across layers. Ranked by rank in the global ranking, ResNet-20 at 75%
    # FLOPs removed fine-tunes to 95.09 vs 92.96 by magnitude (98.33 vs
    # 98.24 at 50%; docs/one_shot.md, "CDP's global ranking").
    diff_norm = 'rank'

    def __init__(self, relu: bool = True):
        self.relu = relu

    def batch_stats(self, features, labels, grads):
        x = self.check_features(features, min_dim=4)
        if x.dim() != 4:
            raise ValueError(f'HRankMetric needs 2-D feature maps '
                             f'[N, C, H, W], got shape {list(x.shape)}')
        if self.relu:
            x = x.clamp_min(0)
        ranks = torch.linalg.matrix_rank(x.float())  # [N, C]
        return dict(rank_sum=ranks.sum(dim=0, dtype=torch.float64),
                    count=x.new_tensor(float(x.shape[0]),
                                       dtype=torch.float64))

    def finalize(self, stats) -> Tensor:
        return stats['rank_sum'] / stats['count']

    def __repr__(self) -> str:
        return f'HRankMetric(relu={self.relu})'
