"""HybridSearch, train stage: take the subnet a search found (its JSON,
written by ``tools/search.py`` with ``GeatpySearcher``) and train it at
the pruned model's cost."""
from typing import Optional

from mmrazor.models.builder import ALGORITHMS

from ..engine import DEFAULT_STAGES
from ..searchers.search_io import read_search_json, subnet_for
from ..utils import UserInputError
from .base_pruning_algorithm import BasePruningAlgorithm

#: The search's rows of the report, after OneShot's.
SEARCH_STAGES = (('search_best', 'search split: searched subnet'),
                 ('search_uniform', 'search split: uniform, same FLOPs'),
                 ('search_diff', 'search split: diff, same FLOPs'))


@ALGORITHMS.register_module(name='HybridSearch')
class HybridSearchAlgorithm(BasePruningAlgorithm):
    """Train the subnet of a HybridSearch JSON.

    At the start of training (``PruningHook``) the JSON's best subnet is
    applied as masks to the checkpoint it was searched from, BN
    statistics are recalibrated (``recalibrate_bn``), and training moves
    to the physically pruned model (``switch_to_pruned``); afterwards the
    pruned model is exported and reported as OneShot's, with the search
    accuracies (held-out training split) of the searched, uniform and
    ``diff`` subnets of the same FLOPs as extra rows.

    Args:
        search_json (str): The search's JSON.
        pretrained (str, optional): Checkpoint to prune; default the one
            the JSON was searched from.
        **kwargs: :class:`BasePruningAlgorithm`'s arguments.
    """

    NAME = 'HybridSearch'
    STAGES = tuple(DEFAULT_STAGES) + SEARCH_STAGES

    def __init__(self, architecture, pruner, search_json: Optional[str] = None,
                 pretrained: Optional[str] = None, **kwargs):
        if not search_json:
            raise UserInputError('HybridSearch needs search_json (the JSON '
                                 'tools/search.py wrote beside the searched '
                                 'checkpoint)')
        self.search_json = search_json
        self.search = read_search_json(search_json)
        if pretrained is None and kwargs.get('subnet') is None:
            pretrained = self.search['checkpoint']
        super().__init__(architecture, pruner, pretrained=pretrained,
                         **kwargs)
        best, refs = self.search['best'], self.search.get('references', {})
        self.record['search_best'] = {'top-1': best.get('search_top1')}
        for name in ('uniform', 'diff'):
            if refs.get(name):
                self.record[f'search_{name}'] = {
                    'top-1': refs[name][0]['search_top1']}

    def check_settings(self):
        super().check_settings()
        self.searched = subnet_for(self.search, self.pruner,
                                   self.search_json)

    def step_action(self) -> str:
        return f'applying the subnet searched in {self.search_json}'

    def scores(self):
        """None: the search already ranked the channels (its subnet holds
        the indices), so nothing is scored again."""
        return None

    def choose_subnet(self, step, scores):
        return {name: list(kept) for name, kept in self.searched.items()}

    def report_fields(self):
        s, best = self.search['settings'], self.search['best']
        return dict(metric=s.get('metric'), search_json=self.search_json,
                    ea_algorithm=s.get('ea_algorithm'),
                    budget=s.get('budget') or (  # JSONs of 0.1.0
                        dict(flops=s['flops_budget'])
                        if 'flops_budget' in s else None),
                    seed=s.get('seed'),
                    search_split=self.search.get('split'),
                    search_flops_ratio=best.get('flops_ratio'),
                    keep_ratios=best.get('keep_ratios'),
                    search_evaluated=self.search.get('evaluated'))
