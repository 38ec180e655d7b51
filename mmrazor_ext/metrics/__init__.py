from .apoz_metric import APoZMetric
from .base_metric import BaseMetric
from .bn_scale_metric import BNScaleMetric
from .builder import build_metric, metric_name
from .cdp_metric import CDPMetric
from .cka_metric import CKAMetric
from .collection import (collect_scores, collect_statistics, default_layers,
                         split_batch)
from .feature_change_metric import FeatureChangeMetric
from .feature_metric import FeatureMetric
from .fpgm_metric import FPGMMetric
from .hrank_metric import HRankMetric
from .l1_metric import L1Metric
from .l2_metric import L2Metric
from .mean_activation_metric import MeanActivationMetric
from .random_metric import RandomMetric
from .stats_collector import StatsCollector
from .taylor_metric import TaylorMetric

__all__ = [
    'BaseMetric', 'FeatureMetric', 'StatsCollector', 'build_metric',
    'metric_name',
    'collect_scores', 'collect_statistics', 'default_layers', 'split_batch',
    'L1Metric', 'L2Metric', 'BNScaleMetric', 'FPGMMetric', 'RandomMetric',
    'MeanActivationMetric', 'APoZMetric', 'HRankMetric', 'CDPMetric',
    'TaylorMetric', 'CKAMetric', 'FeatureChangeMetric'
]
