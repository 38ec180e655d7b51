import torch
import torch.nn.functional as F
from torch import Tensor

from ..registry import METRICS
from .feature_metric import FeatureMetric


@METRICS.register_module()
class CKAMetric(FeatureMetric):
    """Layer-level score: ``1 - linear CKA`` between a block's input and
    output ("Similarity of Neural Network Representations Revisited",
    Kornblith et al., 2019). A block whose output is (up to a linear map)
    its input adds little, scores near 0 and is the first to fuse.

    Each image is one sample; its features are the maps average-pooled to
    ``grid x grid`` cells, so blocks that change resolution compare too.
    Only the sums and cross-products of those features are kept
    (O((C * grid^2)^2) memory), which makes the result exact under any
    batching, unlike mini-batch CKA.

    Args:
        grid (int): Cells per side after pooling.
    """

    input_kind = 'block_feature'

    def __init__(self, grid: int = 1):
        self.grid = grid

    def _pool(self, x: Tensor) -> Tensor:
        if x.dim() == 4:
            x = F.adaptive_avg_pool2d(x.float(), self.grid)
        return x.flatten(1).double()

    def batch_stats(self, features, labels, grads):
        x, y = (self._pool(f) for f in self.check_block(features))
        return dict(sum_x=x.sum(0), sum_y=y.sum(0), xx=x.T @ x, yy=y.T @ y,
                    xy=x.T @ y,
                    count=x.new_tensor(float(x.shape[0]),
                                       dtype=torch.float64))

    def finalize(self, stats) -> Tensor:
        n = stats['count']
        sx, sy = stats['sum_x'], stats['sum_y']
        # centred (co)variances from running sums
        cxx = stats['xx'] - torch.outer(sx, sx) / n
        cyy = stats['yy'] - torch.outer(sy, sy) / n
        cxy = stats['xy'] - torch.outer(sx, sy) / n
        denom = cxx.norm() * cyy.norm()
        cka = cxy.norm()**2 / denom if denom > 0 else denom.new_tensor(1.)
        return (1 - cka).reshape(1)

    def __repr__(self) -> str:
        return f'CKAMetric(grid={self.grid})'
