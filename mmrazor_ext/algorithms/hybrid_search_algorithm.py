"""HybridSearch, train stage: take the subnet a search found (its JSON,
written by ``tools/search.py`` with ``GeatpySearcher``) and train it at
the pruned model's cost: the blocks it removes replaced by their
shortcuts (Fusion's block removal, on the same graph), its widths pruned
physically."""
from typing import Optional

from mmrazor.models.builder import ALGORITHMS

from ..engine import DEFAULT_STAGES
from ..searchers.search_io import read_search_json, subnet_for
from ..utils import UserInputError
from .base_pruning_algorithm import BasePruningAlgorithm
from .fusion_algorithm import FusionAlgorithm

#: The search's rows of the report, after OneShot's.
SEARCH_STAGES = (('search_best', 'search split: searched subnet'),
                 ('search_uniform', 'search split: uniform, same cost'),
                 ('search_diff', 'search split: diff, same cost'),
                 ('search_blocks', 'search split: blocks, same latency'))


@ALGORITHMS.register_module(name='HybridSearch')
class HybridSearchAlgorithm(FusionAlgorithm):
    """Train the subnet of a HybridSearch JSON.

    At the start of training (``PruningHook``) the blocks the JSON's best
    candidate removes are replaced by their shortcuts (Fusion's
    ``apply_fusion``: the Pruner then traces the shallower model), its
    widths are applied as masks to the checkpoint it was searched from,
    BN statistics are recalibrated (``recalibrate_bn``), and training
    moves to the physically pruned model (``switch_to_pruned``);
    afterwards the pruned model is exported and reported, with the search
    accuracies (held-out training split) of the searched subnet and its
    references as extra rows. A checkpoint carries the removed blocks
    (``fusion_removed``) and the subnet (``pruned_keep``), so it rebuilds
    the same model.

    Args:
        search_json (str): The search's JSON.
        pretrained (str, optional): Checkpoint to prune; default the one
            the JSON was searched from.
        **kwargs: :class:`BasePruningAlgorithm`'s arguments.
    """

    NAME = 'HybridSearch'

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
        removed = self.search['best'].get('blocks_removed') or []
        super().__init__(architecture, pruner, pretrained=pretrained,
                         blocks=list(removed), **kwargs)
        self.STAGES = tuple(DEFAULT_STAGES) + tuple(
            s for s in SEARCH_STAGES
            if s[0][7:] in self.search.get('references', {}) or
            s[0] == 'search_best')
        best, refs = self.search['best'], self.search.get('references', {})
        self.record['search_best'] = {'top-1': best.get('search_top1')}
        for name in ('uniform', 'diff', 'blocks'):
            if refs.get(name):
                self.record[f'search_{name}'] = {
                    'top-1': refs[name][0]['search_top1']}

    def check_settings(self):
        try:
            super().check_settings()
        except UserInputError as e:  # Fusion's words for the JSON's blocks
            if not str(e).startswith('Fusion blocks:'):
                raise
            raise UserInputError(
                f'search JSON {self.search_json}: best.blocks_removed: '
                f'{str(e)[len("Fusion blocks: "):]}') from e
        self.searched = subnet_for(self.search, self.pruner,
                                   self.search_json)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)
        for key in ('fusion_removed', 'fusion_linear'):  # checkpoints of
            if prefix + key in missing_keys:  # HybridSearch 0.1 (widths)
                missing_keys.remove(prefix + key)

    def step_action(self) -> str:
        return f'applying the subnet searched in {self.search_json}'

    def scores(self):
        """None: the search already ranked the channels (its subnet holds
        the indices), so nothing is scored again."""
        return None

    def prune_step(self, step: int, optimizer=None):
        """Remove the searched blocks (if any), then apply the searched
        widths to what is left (BasePruningAlgorithm's step)."""
        if not self.remove_names:
            return BasePruningAlgorithm.prune_step(self, step, optimizer)
        before = self.evaluate_val() if self.do_evaluate and \
            self.data is not None else None
        self.say(f'removing {len(self.remove_names)} searched blocks: '
                 f'{", ".join(self.remove_names)}')
        self.apply_fusion(list(self.remove_names), [], optimizer)
        subnet = BasePruningAlgorithm.prune_step(self, step, optimizer)
        if before is not None:
            self.record['before_pruning'] = before
        return subnet

    def choose_subnet(self, step, scores):
        """The searched widths of every space the (shallower) model still
        has: a space keeps its name and channels when blocks around it go
        (spaces inside a removed block are gone with it)."""
        out = {}
        for sp in self.pruner.prunable_spaces:
            kept = self.searched.get(sp.name)
            if kept is None or max(kept, default=-1) >= sp.num_channels:
                raise UserInputError(
                    f'search JSON {self.search_json}: channel space '
                    f'{sp.name} of the model without the removed blocks '
                    'is not one of the searched model')
            out[sp.name] = list(kept)
        return out

    def report_fields(self):
        s, best = self.search['settings'], self.search['best']
        fields = dict(
            metric=s.get('metric'), search_json=self.search_json,
            ea_algorithm=s.get('ea_algorithm'),
            budget=s.get('budget') or (  # JSONs of 0.1.0
                dict(flops=s['flops_budget']) if 'flops_budget' in s
                else None),
            seed=s.get('seed'), search_split=self.search.get('split'),
            search_flops_ratio=best.get('flops_ratio'),
            keep_ratios=best.get('keep_ratios'),
            removed_blocks=self.removed_names(),
            search_evaluated=self.search.get('evaluated'))
        if isinstance(best.get('latency_ms'), dict):
            model = self.search.get('latency_model') or {}
            fields.update(search_latency_ms=best['latency_ms'],
                          search_latency_ratio=dict(
                              predicted=best.get('latency_ratio'),
                              measured=best.get('latency_measured_ratio')),
                          latency_model={k: model.get(k) for k in (
                              'runtime', 'threads', 'batch',
                              'unpruned_ms')})
        return fields
