from .base_metric import BaseMetric
from .builder import build_metric
from .l1_metric import L1Metric

__all__ = ['BaseMetric', 'build_metric', 'L1Metric']
