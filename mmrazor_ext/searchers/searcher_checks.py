"""The searcher's settings, checked before any work: one line per
problem (:class:`UserInputError`)."""
from ..fusion import candidates, find_blocks
from ..metrics import build_metric
from ..utils import UserInputError
from ..utils.budget import check_budget as checked_budget
from .candidate_pool import CandidatePool
from .evolution import ALGORITHMS


class SearcherChecks:
    """Part of :class:`GeatpySearcher`: its cheap checks, the removable
    blocks and the reachability of FLOPs / parameter budgets."""

    def check_settings(self, keep_ratios, extra) -> None:
        """Cheap checks, one-line :class:`UserInputError` each."""
        if extra:
            raise UserInputError(f'GeatpySearcher got unknown settings '
                                 f'{sorted(extra)}')
        if self.ea not in ALGORITHMS:
            raise UserInputError(f'searcher ea_algorithm {self.ea!r} is not '
                                 f'one of {sorted(ALGORITHMS)}')
        for key in ('population', 'generations'):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or \
                    value < 1:
                raise UserInputError(f'searcher {key}={value!r} must be an '
                                     'integer >= 1')
        if self.ea == 'DE' and self.population < 4:
            raise UserInputError('searcher population must be >= 4 for DE')
        if not isinstance(self.blocks, bool):
            raise UserInputError(f'searcher blocks={self.blocks!r} must be '
                                 'True or False')
        self.budget = checked_budget(self.budget, 'searcher budget',
                                     kinds=('flops', 'params', 'latency'))
        self.flops_kept = self.budget.get('flops')
        num = self.split_cfg.get('num_images')
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise UserInputError(f'searcher search_split.num_images={num!r} '
                                 'must be an integer >= 1')
        for key in ('recalibrate_bn', 'num_batches', 'batch_size',
                    'eval_batch_size'):
            value = getattr(self, dict(recalibrate_bn='recal_batches').get(
                key, key))
            if isinstance(value, bool) or not isinstance(value, int) or \
                    value < (0 if key == 'recalibrate_bn' else 1):
                raise UserInputError(f'searcher {key}={value!r} must be a '
                                     'positive integer')
        for key, what in (('metric', self.metric),
                          ('block_metric', self.block_metric)):
            try:
                built = build_metric(what)
            except (KeyError, TypeError, ValueError) as e:
                raise UserInputError(f'searcher {key} {what!r}: {e}') from e
            if key == 'metric':
                self.metric_obj = built

    def _blocks(self):
        """Fusion's removable blocks of the pruner's graph (transitions
        kept), when the search removes blocks."""
        if not self.blocks:
            return ()
        found = candidates(find_blocks(self.pruner.graph,
                                       type(self.model).__name__), False)
        if not found:
            raise UserInputError('searcher blocks=True: every residual '
                                 'block of the model changes its shape; '
                                 'none can be removed')
        return found

    def check_budget(self) -> None:
        """FLOPs and parameter budgets are reachable with the smallest
        choice everywhere (and every removable block removed)."""
        pool = CandidatePool(self.space, None, None, {})
        genome = self.space.uniform_genome(0, self.space.block_names)
        smallest = pool.record(self.space.kept(genome),
                               self.space.removed(genome))
        blocks = (f', all {len(self.space.blocks)} removable blocks '
                  'removed' if self.space.blocks else '')
        for kind, what in (('flops', 'FLOPs'), ('params', 'parameters')):
            if kind in self.budget and \
                    smallest[f'{kind}_ratio'] > self.budget[kind]:
                raise UserInputError(
                    f'searcher budget {kind}={self.budget[kind]} cannot be '
                    f'met: the smallest candidate (keep ratio '
                    f'{self.space.choices[0]} everywhere{blocks}, '
                    f'min_channels={self.pruner.min_channels}) keeps '
                    f'{smallest[f"{kind}_ratio"]:.1%} of the {what}')
