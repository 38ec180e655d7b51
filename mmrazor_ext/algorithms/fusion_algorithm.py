"""Fusion: make a trained classifier shallower (drop the least important
residual blocks, remove nonlinearities and merge the linear chains left),
optionally prune channels of what is left, fine-tune, fold BN, export."""
import copy
import logging
import time
from typing import List, Optional, Sequence, Union

import torch
from mmcv.utils import print_log
from mmrazor.models.builder import ALGORITHMS

from ..engine import build_loader, cpu_latency, recalibrate_bn
from ..fusion import (candidates, check_target, choose_blocks,
                      drop_missing_params_, find_blocks, find_chains,
                      fusion_structure, linearize, merge_model,
                      remove_blocks)
from ..metrics import build_metric, collect_statistics
from ..pruners.masks import detach_masks
from ..utils import UserInputError, broadcast_object
from ..utils.budget import check_budget, deprecated_budget, kept_from_removed
from .base_pruning_algorithm import BasePruningAlgorithm

STAGES = (('before_pruning', 'before fusion'),
          ('after_blocks', 'blocks removed / linearised'),
          ('after_pruning', 'channels pruned'),
          ('after_recalibration', '+ BN recalibration'),
          ('after_finetune', 'after fine-tuning'),
          ('merged', 'merged + BN folded (export)'))


@ALGORITHMS.register_module(name='Fusion')
class FusionAlgorithm(BasePruningAlgorithm):
    """Layer-level compression of a trained mmcls classifier.

    At the start of training (one step, from ``PruningHook`` /
    ``FusionHook``): residual blocks are scored by ``block_metric`` over
    ``num_batches`` training batches and the least important are replaced
    by their shortcuts down to ``budget``; the activations of the
    ``merge`` least important mergeable chains are removed (DepthShrinker);
    with ``channels`` set, the Pruner then prunes the channels of the
    shallower model (blocks first, then channels). Fine-tuning runs on the
    result; the export merges the linearised chains into one conv each
    and the hook folds BN for the deploy model.

    Args:
        block_metric (str | dict): A ``'block_feature'`` metric (higher =
            more important), e.g. ``'CKAMetric'``, ``'FeatureChangeMetric'``.
        budget (dict, optional): What the blocks removed leave:
            ``dict(blocks=K)`` (residual blocks kept), ``dict(flops=f)``
            (fraction of the unpruned FLOPs kept) or ``dict(latency=f)``
            (fraction of the measured batch-1 CPU latency kept). None: no
            block is removed. (Was ``target``, deprecated: same meaning.)
        blocks (list[str], optional): Remove exactly these blocks instead.
        remove_transitions (bool): Blocks that change shape may be replaced
            by their downsample branch.
        merge (int | str, optional): Chains to linearise and merge (the
            least important by ``block_metric`` on their activation), or
            ``'all'``; only chains whose merged conv has no more FLOPs than
            the chain are candidates.
        channels (dict, optional): Channel pruning after the blocks:
            ``dict(budget=dict(flops=f), mode='diff')`` keeps ``f`` of the
            FLOPs the blocks step left, ranked by ``metric``. (Was
            ``dict(flops_target=1 - f)``, FLOPs removed, deprecated.)
        latency_time (float): Seconds per timing for a latency budget.
        **kwargs: :class:`BasePruningAlgorithm`'s arguments.
    """

    NAME = 'Fusion'
    STAGES = STAGES

    def __init__(self, architecture, pruner,
                 block_metric: Union[str, dict] = 'CKAMetric',
                 budget: Optional[dict] = None,
                 blocks: Optional[Sequence[str]] = None,
                 remove_transitions: bool = False,
                 merge: Optional[int] = None,
                 channels: Optional[dict] = None,
                 latency_time: float = 0.3, target: Optional[dict] = None,
                 **kwargs):
        if target is not None:  # deprecated name, same meaning
            budget = deprecated_budget('Fusion', f'target={target!r}',
                                       target, budget)
        channels = _renamed_channel_budget(channels)
        self.block_metric, self.budget = block_metric, budget
        self.remove_names = list(blocks) if blocks is not None else None
        self.remove_transitions = remove_transitions
        self.merge, self.channels = merge, channels
        self.latency_time = latency_time
        if channels is None:  # no such row in the report
            self.STAGES = tuple(s for s in STAGES if s[0] != 'after_pruning')
        super().__init__(architecture, pruner, **kwargs)
        self.register_buffer('fusion_removed', torch.zeros(
            len(self.blocks), dtype=torch.bool))
        self.register_buffer('fusion_linear', torch.zeros(
            len(self.chains), dtype=torch.bool))
        self._baseline = ()  # (model, ): not a submodule, not trained

    # ------------------------------------------------ settings
    def check_settings(self):
        super().check_settings()
        if self.finetune != 'pruned':
            raise UserInputError("Fusion fine-tunes the changed model: "
                                 "finetune must be 'pruned'")
        try:
            metric = build_metric(self.block_metric)
        except (KeyError, TypeError, ValueError) as e:
            raise UserInputError(f'Fusion block_metric '
                                 f'{self.block_metric!r}: {e}') from e
        if metric.input_kind != 'block_feature':
            raise UserInputError(
                f'Fusion block_metric {type(metric).__name__} scores '
                f"{metric.input_kind!r}, not 'block_feature'")
        if self.budget is None and self.remove_names is None and \
                not self.merge and self.channels is None:
            raise UserInputError('Fusion has nothing to do: set budget, '
                                 'blocks, merge or channels')
        if self.budget is not None:
            self.budget = check_budget(
                self.budget, 'Fusion budget', kinds=('flops', 'latency'),
                counts=('blocks', ), one=True)
        model, graph = self.architecture.model, self.pruner.graph
        wants_blocks = self.budget is not None or self.remove_names
        self.blocks = find_blocks(graph, type(model).__name__) \
            if wants_blocks else self._blocks_or_none(graph)
        if self.budget is not None and self.remove_names is not None:
            raise UserInputError('Fusion: give budget or blocks, not both')
        if self.budget is not None:
            check_target(self.budget, self.blocks, self.remove_transitions)
            self._check_block_metric(metric)
        if self.remove_names is not None:
            known = {b.name for b in self.blocks}
            bad = [n for n in self.remove_names if n not in known]
            if bad:
                raise UserInputError(
                    f'Fusion blocks: {bad[0]!r} is not a removable residual '
                    f'block of the model (blocks: {", ".join(sorted(known))})')
        self.chains = find_chains(graph, model)
        if self.merge == 'all':
            self.merge = len(self.chains)
            if not self.chains:
                print_log("Fusion merge='all': the model has no chain whose "
                          'merge is not slower; nothing will be merged',
                          logger='mmcls', level=logging.WARNING)
        if self.merge is not None and (not isinstance(self.merge, int) or
                                       not 0 <= self.merge <= len(
                                           self.chains)):
            raise UserInputError(
                f'Fusion merge={self.merge!r}: the model has '
                f'{len(self.chains)} chains whose merge is not slower '
                "(merge must be 'all' or an int in that range)")
        if self.data is None and (self.budget is not None or self.merge):
            raise UserInputError('Fusion scores blocks from features: it '
                                 'needs data=dict(train=...)')
        if self.channels is not None:
            if not isinstance(self.channels, dict) or \
                    'budget' not in self.channels:
                raise UserInputError(
                    f'Fusion channels={self.channels!r}: give '
                    "dict(budget=dict(flops=f), mode='diff'), f the "
                    'fraction of FLOPs kept')
            self.channels = dict(self.channels, budget=check_budget(
                self.channels['budget'], 'Fusion channels budget',
                base='the model after the blocks step'))
            if self.channels['budget']['flops'] == 1:
                raise UserInputError(
                    'Fusion channels budget flops=1 prunes nothing: give '
                    'a fraction of FLOPs kept below 1, or no channels')

    def _check_block_metric(self, metric):
        """The block metric can score every candidate block's shapes."""
        for b in candidates(self.blocks, self.remove_transitions):
            pair = (torch.rand(4, *b.in_shape), torch.rand(4, *b.out_shape))
            try:
                metric({b.name: pair})
            except (ValueError, TypeError) as e:
                raise UserInputError(
                    f'Fusion block_metric {type(metric).__name__} cannot '
                    f'score block {b.name} ({e}); use CKAMetric or '
                    'remove_transitions=False') from e

    @staticmethod
    def _blocks_or_none(graph):
        try:
            return find_blocks(graph)
        except UserInputError:
            return []

    def step_epochs(self) -> List[int]:
        return [0]

    def report_fields(self):
        return dict(metric=self.metric, block_metric=self.block_metric,
                    budget=self.budget, merge=self.merge,
                    channels=self.channels,
                    removed_blocks=self.removed_names(),
                    merged_chains=self.linear_names(),
                    block_scores=self.record.get('block_scores'))

    def removed_names(self) -> List[str]:
        return [b.name for b, r in zip(self.blocks, self.fusion_removed)
                if bool(r)]

    def linear_names(self) -> List[str]:
        return [c.name for c, r in zip(self.chains, self.fusion_linear)
                if bool(r)]

    # ------------------------------------------------ the step
    def block_scores(self, names: Sequence[str]) -> dict:
        """``{name: score}`` of modules ``names`` by ``block_metric`` over
        ``num_batches`` seeded training batches (all-reduced)."""
        if not names:
            return {}
        collectors = self.seeded(
            collect_statistics, self.architecture.model, self.block_metric,
            self._train_loader(), layers=list(names),
            num_batches=self.num_batches)
        return {n: float(c.compute().reshape(-1)[0])
                for n, c in collectors.items()}

    def _train_loader(self):
        return build_loader(self.data, 'train', self.seed)

    def choose_removed(self, scores: dict) -> List[str]:
        if self.remove_names is not None:
            return list(self.remove_names)
        if self.budget is None:
            return []
        model, shape = self.architecture.model, self.pruner.input_shape

        def latency_fraction(names):
            small = remove_blocks(model, self.blocks, names, inplace=False)
            ms = cpu_latency(dict(full=model, small=small), shape, (1, ),
                             self.latency_time)['batch_1']
            return ms['small']['median'] / ms['full']['median']

        return choose_blocks(self.blocks, scores, self.budget,
                             self.remove_transitions, self.full_flops,
                             latency_fraction)

    def prune_step(self, step: int, optimizer=None):
        t0 = time.time()
        evaluating = self.do_evaluate and self.data is not None
        before = self.evaluate_val() if evaluating else None
        self.record['before_pruning'] = before
        needs_scores = self.budget is not None and self.remove_names is None
        n = len(candidates(self.blocks, self.remove_transitions))
        name = self.block_metric.get('type') if isinstance(
            self.block_metric, dict) else self.block_metric
        self.say(f'scoring {n} residual blocks with {name}...'
                 if needs_scores else
                 'removing the given blocks')
        scores = self.block_scores([b.name for b in candidates(
            self.blocks, self.remove_transitions)]) if needs_scores else {}
        self.record['block_scores'] = scores
        removed = broadcast_object(self.choose_removed(scores))
        linear = []
        if self.merge:
            removed_set = set(removed)
            alive = [c for c in self.chains if not any(
                c.name == r or c.name.startswith(r + '.')
                for r in removed_set)]
            act = self.block_scores([c.act for c in alive])
            self.record['chain_scores'] = {c.name: act[c.act] for c in alive}
            order = sorted(alive, key=lambda c: act[c.act])
            linear = broadcast_object([c.name for c in order[:self.merge]])
        self.apply_fusion(removed, linear, optimizer)
        entry = dict(step=1, removed_blocks=removed, linearised=linear)
        if evaluating:
            self.record['after_blocks'] = self.evaluate_val()
        if self.channels is not None:
            super().prune_step(step, optimizer)
            self.record['before_pruning'] = before
        else:
            self.steps_done.fill_(1)
            if self.recalibrate_bn > 0:
                self.seeded(recalibrate_bn, self.architecture.model,
                            self._train_loader(), self.recalibrate_bn)
                if evaluating:
                    self.record['after_recalibration'] = self.evaluate_val()
        # the model as it will be exported (merged), by the report's counter
        flops, params = self.pruner.count(self.export_model())
        entry.update(flops=flops, params=params,
                     seconds=round(time.time() - t0, 2))
        self.record['steps'].insert(0, entry)
        self.say(f'{len(removed)} blocks removed, {len(linear)} chains '
                 f'linearised; FLOPs {flops / self.full_flops:.1%} of the '
                 f'unpruned model ({entry["seconds"]} s)')

    def choose_subnet(self, step, scores):
        ch = self.channels  # the pruner takes FLOPs removed
        removed = round(1 - ch['budget']['flops'], 12)
        return self.pruner.sample_subnet_flops(
            removed, scores, mode=ch.get('mode', 'diff'))

    # ------------------------------------------------ structure
    def apply_fusion(self, removed, linear, optimizer=None) -> None:
        """Replace blocks ``removed`` by their shortcuts and linearise the
        chains ``linear``; drop the lost parameters from ``optimizer`` and
        re-trace the model for the Pruner."""
        if not removed and not linear:
            return
        model = self.architecture.model
        if not self._baseline:
            self._baseline = (copy.deepcopy(model).cpu(), )
            detach_masks(self._baseline[0])
        by_chain = {c.name: c for c in self.chains}
        linearize(model, [by_chain[n] for n in linear])
        remove_blocks(model, self.blocks, removed)
        drop_missing_params_(optimizer, self)
        names = {b.name: i for i, b in enumerate(self.blocks)}
        for n in removed:
            self.fusion_removed[names[n]] = True
        chains = {c.name: i for i, c in enumerate(self.chains)}
        for n in linear:
            self.fusion_linear[chains[n]] = True
        detach_masks(model)
        self.pruner.prepare_from_supernet(model)
        self.pruned_keep = self.pruner.keep_vector()

    def unpruned_model(self) -> torch.nn.Module:
        """The model before Fusion changed it (latency baseline)."""
        if self._baseline:
            return copy.deepcopy(self._baseline[0])
        return self.pruner.export(subnet={})

    def export_model(self) -> torch.nn.Module:
        """The exported model with its linearised chains merged."""
        model = super().export_model()
        return merge_model(model, self.pruner.input_shape)

    def load_structure(self, state_dict) -> None:
        state = {k[7:] if k.startswith('module.') else k: v
                 for k, v in state_dict.items()}
        removed, linear = fusion_structure(state, len(self.blocks),
                                           len(self.chains))
        if removed is not None and not bool(self.fusion_removed.any()) \
                and not bool(self.fusion_linear.any()) and not \
                self.is_exported:
            self.apply_fusion(
                [b.name for b, r in zip(self.blocks, removed) if r],
                [c.name for c, r in zip(self.chains, linear) if r])
        super().load_structure(state_dict)


def _renamed_channel_budget(channels):
    """``channels`` with a deprecated ``flops_target`` (FLOPs removed)
    turned into ``budget=dict(flops=...)`` (FLOPs kept), with a warning."""
    if not isinstance(channels, dict) or 'flops_target' not in channels:
        return channels
    channels = dict(channels)
    old = channels.pop('flops_target')
    new = dict(flops=kept_from_removed('Fusion channels', 'flops_target',
                                       old))
    channels['budget'] = deprecated_budget(
        'Fusion', f'channels.flops_target={old!r} (FLOPs removed)', new,
        channels.get('budget'), new_key='channels.budget')
    return channels
