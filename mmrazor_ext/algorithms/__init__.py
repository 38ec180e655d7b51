"""Algorithms (mmrazor ALGORITHMS); their runner hook is in ``engine/``
(HybridSearch's report hook here)."""
from .base_pruning_algorithm import BasePruningAlgorithm
from .fusion_algorithm import FusionAlgorithm
from .hybrid_search_algorithm import HybridSearchAlgorithm
from .hybrid_search_hook import HybridSearchHook
from .one_shot_algorithm import OneShotAlgorithm

__all__ = ['BasePruningAlgorithm', 'FusionAlgorithm', 'HybridSearchAlgorithm',
           'HybridSearchHook', 'OneShotAlgorithm']
