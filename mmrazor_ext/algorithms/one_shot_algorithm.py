"""OneShot: prune a trained classifier to a budget by an importance metric
(at once or in steps), then fine-tune it."""
from typing import Dict, Optional, Sequence, Union

from mmrazor.models.builder import ALGORITHMS

from ..pruners.sampling.subnets import check_ratio
from ..utils import UserInputError
from ..utils.budget import check_budget, deprecated_budget, kept_from_removed
from .base_pruning_algorithm import BasePruningAlgorithm

MODES = ('uniform', 'diff', 'nonuni')


@ALGORITHMS.register_module(name='OneShot')
class OneShotAlgorithm(BasePruningAlgorithm):
    """Prune a trained mmcls classifier once (or in ``num_steps`` steps)
    by an importance metric, then fine-tune it.

    Step ``k`` (0-based) runs at the start of epoch ``k * step_interval``
    and removes ``(k + 1) / num_steps`` of what the budget removes; after
    the last step
    fine-tuning runs on the physically pruned model (see
    :class:`BasePruningAlgorithm` for everything shared: ``pretrained``,
    ``metric``, ``data``, ``recalibrate_bn``, ``finetune``, ``subnet``...).

    Args:
        mode (str): ``'uniform'`` (same ratio in every space), ``'diff'``
            (one global ranking) or ``'nonuni'`` (``ratios`` per space).
        budget (dict, optional): ``dict(flops=f)``: keep at most ``f`` of
            the unpruned FLOPs (uniform / diff; see
            :mod:`mmrazor_ext.utils.budget`).
        ratio (float, optional): Fraction of channels to remove
            (uniform / diff), if no ``budget``.
        flops_target (float, optional): Deprecated (fraction of FLOPs
            removed): ``flops_target=r`` is ``budget=dict(flops=1 - r)``,
            with a warning.
        ratios (list | dict, optional): Per-space fractions removed
            (nonuni): one per prunable space, or ``{space: ratio}``.
        num_steps (int): Prune in this many steps.
        step_interval (int): Fine-tuning epochs between steps.
        **kwargs: :class:`BasePruningAlgorithm`'s arguments.
    """

    NAME = 'OneShot'

    def __init__(self, architecture, pruner, mode: str = 'diff',
                 budget: Optional[dict] = None,
                 ratio: Optional[float] = None,
                 ratios: Optional[Union[Sequence[float], Dict]] = None,
                 num_steps: int = 1, step_interval: int = 1,
                 flops_target: Optional[float] = None, **kwargs):
        if flops_target is not None:  # deprecated: FLOPs removed
            budget = deprecated_budget(
                'OneShot', f'flops_target={flops_target!r} (FLOPs removed)',
                dict(flops=kept_from_removed('OneShot', 'flops_target',
                                             flops_target)), budget)
        # read by check_settings(), which the base constructor calls
        self.mode, self.budget = mode, budget
        self.ratio, self.ratios = ratio, ratios
        self._num_steps, self.step_interval = int(num_steps), step_interval
        super().__init__(architecture, pruner, **kwargs)

    def step_epochs(self):
        return [k * self.step_interval for k in range(self._num_steps)]

    def report_fields(self):
        return dict(metric=self.metric, mode=self.mode,
                    budget=self.budget, ratio=self.ratio)

    def check_settings(self):
        super().check_settings()
        if self.mode not in MODES:
            raise UserInputError(f'OneShot mode {self.mode!r} is not one of '
                                 f'{MODES}')
        if self._num_steps < 1 or self.step_interval < 1:
            raise UserInputError('OneShot num_steps and step_interval must '
                                 'be >= 1')
        if self.mode == 'nonuni':
            if self.ratios is None:
                raise UserInputError("OneShot mode 'nonuni' needs ratios")
        elif (self.budget is None) == (self.ratio is None):
            raise UserInputError(f'OneShot mode {self.mode!r} needs exactly '
                                 'one of budget and ratio')
        if self.budget is not None:
            self.budget = check_budget(self.budget, 'OneShot budget')
        try:
            if self.ratio is not None:
                check_ratio(self.ratio, 'ratio')
        except (TypeError, ValueError) as e:
            raise UserInputError(f'OneShot {e}') from e
        if self.budget is not None:
            least = 1 - self.pruner.max_flops_reduction()
            if self.budget['flops'] < least:
                raise UserInputError(
                    f'OneShot budget flops={self.budget["flops"]} cannot be '
                    f'reached: keeping min_channels='
                    f'{self.pruner.min_channels} in every prunable space '
                    '(rounded to the pruner\'s divisor='
                    f'{self.pruner.divisor}) keeps at least {least:.1%} of '
                    'the FLOPs')
        if self.mode == 'nonuni':
            try:  # names and values, without scores
                self.pruner.sample_subnet_nonuni(self.ratios)
            except (TypeError, ValueError) as e:
                raise UserInputError(f'OneShot ratios: {e}') from e

    def choose_subnet(self, step, scores):
        frac = (step + 1) / self._num_steps
        pruner = self.pruner
        if self.mode == 'nonuni':
            ratios = self.ratios
            ratios = ({k: v * frac for k, v in ratios.items()}
                      if isinstance(ratios, dict) else
                      [r * frac for r in ratios])
            return pruner.sample_subnet_nonuni(ratios, scores)
        if self.budget is not None:  # the pruner takes FLOPs removed
            removed = round(1 - self.budget['flops'], 12)
            return pruner.sample_subnet_flops(removed * frac, scores,
                                              mode=self.mode)
        sample = getattr(pruner, f'sample_subnet_{self.mode}')
        return sample(self.ratio * frac, scores)
