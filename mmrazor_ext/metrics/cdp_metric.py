import math
from typing import Optional, Tuple

import torch
from torch import Tensor

from ..registry import METRICS
from .feature_metric import FeatureMetric


@METRICS.register_module()
class CDPMetric(FeatureMetric):
    """Class-wise discriminative power ("CDP: Towards Optimal Filter Pruning
    via Class-wise Discriminative Power", Xu et al., 2021).

    Channels are the "terms" and classes the "documents" of TF-IDF:

    1. ``M[k, c]``: response of channel ``c`` (after ReLU, averaged over
       positions) averaged over the images of class ``k``. Only these
       class sums and counts are kept: O(classes x channels) memory.
    2. Threshold (the paper's "a filter occurs in a document"): channel
       ``c`` occurs in class ``k`` when ``M[k, c] >= mean_k M[k, c]``, its
       own mean over classes, as in the authors' code.
    3. ``TF[k, c] = M[k, c] / sum_c M[k, c]`` (times a per-layer balance
       factor ``log(e * C / coe)`` when ``coe > 0``, the paper's
       hyper-parameter for comparing layers of different widths).
    4. ``IDF[c] = log(K / (df[c] + 1))``, ``df`` the number of classes the
       channel occurs in (the authors' smoothing).
    5. ``score[c]`` = mean of ``TF[k, c]`` over the classes it occurs in,
       times ``IDF[c]``.

    A channel that fires for one class only gets a positive IDF; one that
    fires alike for every class occurs in all ``K`` and gets
    ``log(K / (K + 1)) < 0``, the lowest scores. scikit-learn's
    ``TfidfTransformer`` computes ``idf = ln(K / df) + 1`` (plus smoothing),
    which is never below 1 and so would keep class-agnostic channels, the
    opposite of CDP's premise; hence the formula is written out here.

    Args:
        num_classes (int, optional): Number of classes; by default grown to
            the largest label seen (classes never seen are left out).
        relu (bool): Apply ReLU before averaging (the authors hook conv
            outputs and apply ReLU).
        coe (float): Balance coefficient; 0 disables it.
    """

    needs_labels = True
    # TF divides by the layer's total response, so a score's size depends
    # on the layer's width and on how its responses spread: only the order
    # inside a layer compares. A global ranking by magnitude empties some
    # spaces (docs/one_shot.md, "CDP's global ranking"); by rank each
    # space loses about the same fraction, its weakest channels.
    diff_norm = 'rank'
    growable_stats = ('class_sum', 'class_count')

    def __init__(self, num_classes: Optional[int] = None, relu: bool = True,
                 coe: float = 0.):
        self.num_classes = num_classes
        self.relu = relu
        self.coe = coe

    def batch_stats(self, features, labels, grads):
        x = self.check_features(features)
        labels = self._check_labels(labels, x.shape[0])
        if self.relu:
            x = x.clamp_min(0)
        pooled = x.flatten(2).mean(dim=2).double()  # [N, C]
        num = self.num_classes or int(labels.max()) + 1
        labels = labels.to(pooled.device)
        class_sum = pooled.new_zeros(num, pooled.shape[1])
        class_sum.index_add_(0, labels, pooled)
        count = torch.bincount(labels, minlength=num).double()
        return dict(class_sum=class_sum, class_count=count)

    def _check_labels(self, labels, num: int) -> Tensor:
        if labels is None:
            raise ValueError('CDPMetric needs class labels: pass labels= '
                             '(gt_label of the batches) with the features')
        labels = torch.as_tensor(labels).detach().long().flatten().cpu()
        if labels.numel() != num:
            raise ValueError(f'CDPMetric: {labels.numel()} labels for '
                             f'{num} images')
        if labels.numel() and (labels.min() < 0 or (
                self.num_classes and labels.max() >= self.num_classes)):
            raise ValueError(f'CDPMetric: labels must lie in '
                             f'[0, {self.num_classes or "inf"}), got '
                             f'[{int(labels.min())}, {int(labels.max())}]')
        return labels

    def tfidf(self, stats) -> Tuple[Tensor, Tensor]:
        """TF-IDF matrix and scores from summed statistics.

        Returns:
            ``(matrix [K, C], scores [C])``: ``TF * IDF`` where the channel
            occurs in the class (0 elsewhere), over the ``K`` classes seen.
        """
        count = stats['class_count'].cpu()
        seen = count > 0
        if int(seen.sum()) < 2:
            raise ValueError(f'CDPMetric needs images of at least 2 classes, '
                             f'got {int(seen.sum())}')
        means = stats['class_sum'].cpu()[seen] / count[seen, None]  # [K, C]
        num_cls, num_ch = means.shape
        occurs = means >= means.mean(dim=0, keepdim=True)
        balance = math.log(num_ch / self.coe * math.e) if self.coe else 1.
        tf = means / means.sum(dim=1, keepdim=True).clamp_min(1e-12)
        tf = tf * balance
        df = occurs.sum(dim=0).double()
        idf = torch.log(num_cls / (df + 1.))
        matrix = tf * occurs * idf
        scores = (tf * occurs).sum(dim=0) / df * idf
        return matrix, scores

    def finalize(self, stats) -> Tensor:
        return self.tfidf(stats)[1]

    def __repr__(self) -> str:
        return (f'CDPMetric(num_classes={self.num_classes}, '
                f'relu={self.relu}, coe={self.coe})')
