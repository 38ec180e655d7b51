"""HybridSearch's search stage: the search space (a keep ratio per channel
space), candidate evaluation by inference, the geatpy searcher (mmrazor
``SEARCHERS``), the search JSON and its plots."""
from .candidate_evaluator import CandidateEvaluator, SearchSplit
from .candidate_pool import CandidatePool, run_shared
from .evolution import ALGORITHMS, Evolution, build_evolution
from .geatpy_searcher import GeatpySearcher
from .search_io import (read_search_json, search_json_path, subnet_for,
                        write_search_json)
from .search_space import KeepRatioSpace, default_keep_ratios

__all__ = ['CandidateEvaluator', 'SearchSplit', 'CandidatePool',
           'run_shared', 'ALGORITHMS', 'Evolution', 'build_evolution',
           'GeatpySearcher', 'read_search_json', 'search_json_path',
           'subnet_for', 'write_search_json', 'KeepRatioSpace',
           'default_keep_ratios']
