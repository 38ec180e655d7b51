from torch import Tensor

from ..registry import METRICS
from .feature_metric import FeatureMetric


@METRICS.register_module()
class FeatureChangeMetric(FeatureMetric):
    """Layer-level score: relative change a block makes to its input,
    ``||out - in||_F / ||in||_F`` over all images. A residual block that
    barely changes its input can be removed with little effect.

    Needs input and output of the same shape (blocks that change channels or
    resolution have no identity to fall back to, so fusing them is a
    different question).
    """

    input_kind = 'block_feature'

    def batch_stats(self, features, labels, grads):
        inp, out = self.check_block(features)
        if inp.shape != out.shape:
            raise ValueError(f'FeatureChangeMetric needs input and output of '
                             f'the same shape, got {list(inp.shape)} -> '
                             f'{list(out.shape)}')
        inp, out = inp.double(), out.double()
        return dict(diff=(out - inp).square().sum(), ref=inp.square().sum())

    def finalize(self, stats) -> Tensor:
        return (stats['diff'] / stats['ref'].clamp_min(1e-24)).sqrt() \
            .reshape(1)
