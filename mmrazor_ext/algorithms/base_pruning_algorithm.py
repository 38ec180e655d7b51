"""BasePruningAlgorithm: what every pruning algorithm shares.

A subclass decides *which* subnet to prune to (``choose_subnet``) and
*when* (``step_epochs``); this class loads the trained model, scores
channels through the Pruner and a Metric, applies subnets, keeps pruned
weights at zero while the masked model trains, moves training to the
physically pruned model after the last step, carries the subnet in the
state dict and evaluates. ``PruningHook`` (``engine/``) runs the steps
from the runner. Contract in docs/algorithms.md.
"""
import random
import time
import weakref
from typing import List, Optional, Union

import numpy as np
import torch
from mmcv.utils import print_log
from mmrazor.models.algorithms.base import BaseAlgorithm

from ..adapters import scoped_architecture
from ..engine import (DEFAULT_STAGES, build_loader, evaluate,
                      recalibrate_bn)
from ..metrics import build_metric, collect_statistics, metric_name
from ..pruners.param_masks import zero_pruned_
from ..utils import UserInputError, broadcast_object
from .pretrained import load_pretrained
from .pruned_structure import PrunedStructureMixin, drop_non_persistent

FINETUNE = ('pruned', 'masked')


def _first_metric(accuracy: dict) -> str:
    """``'top-1 99.17'`` (classifiers) or ``'mIoU 80.12'`` (segmentors)."""
    key = next(iter(accuracy))
    return f'{key} {accuracy[key]:.2f}'


class BasePruningAlgorithm(PrunedStructureMixin, BaseAlgorithm):
    """Base of the pruning algorithms (mmrazor ``BaseAlgorithm``).

    Building one is cheap: settings are checked (one-line
    :class:`UserInputError`), ``pretrained`` is loaded, nothing is scored
    or evaluated. Prune steps run when training starts.

    State dict: ``pruned_keep`` (one bool per prunable unit: the subnet),
    ``steps_done`` and ``pruned_exported`` (1 once training moved to the
    physically pruned model, whose weights the checkpoint then holds).
    Loading a checkpoint (``--resume-from``, ``load_from``,
    ``tools/test.py``) first rebuilds that structure, then loads strictly.

    Args:
        architecture (dict): mmrazor architecture around an mmcls model.
        pruner (dict): ``ChannelPruner`` config.
        pretrained (str, optional): Checkpoint of the trained classifier.
        metric (str | dict): Importance metric (``mmrazor_ext.metrics``).
        num_batches (int): Training batches seen by feature metrics.
        subnet (str, optional): Subnet JSON applied at build time instead
            of pruning (e.g. ``tools/test.py --subnet``).
        data (dict, optional): The ``data`` config (``train`` for feature
            metrics and BN recalibration, ``val`` for evaluation).
        evaluate (bool): Measure val accuracy around each prune step.
        recalibrate_bn (int): Re-estimate BatchNorm statistics on this many
            training batches after each prune step (0: keep them).
        finetune (str): ``'pruned'``: after the last prune step training
            continues on the physically pruned model (its cost);
            ``'masked'``: on the full-width model with masks.
        seed (int): Seed of the scoring / recalibration loaders.
    """

    #: Report rows (accuracy stages), in order: ``(record key, label)``.
    STAGES = DEFAULT_STAGES
    #: Name in messages and logs.
    NAME = 'Pruning'

    def __init__(self, architecture, pruner, pretrained: Optional[str] = None,
                 metric: Union[str, dict] = 'L1Metric', num_batches: int = 20,
                 subnet: Optional[str] = None, data: Optional[dict] = None,
                 evaluate: bool = True, recalibrate_bn: int = 0,
                 finetune: str = 'pruned', seed: int = 0, init_cfg=None):
        super().__init__(architecture=scoped_architecture(architecture),
                         pruner=pruner, init_cfg=init_cfg)
        self.metric, self.num_batches = metric, num_batches
        self.data, self.do_evaluate, self.seed = data, evaluate, seed
        self.recalibrate_bn = recalibrate_bn
        self.finetune = finetune
        self.register_buffer('pruned_keep', self.pruner.keep_vector())
        self.register_buffer('steps_done', torch.tensor(0))
        self.register_buffer('pruned_exported', torch.tensor(False))
        self.register_state_dict_post_hook(drop_non_persistent)
        self.record = dict(pretrained=pretrained, subnet_file=subnet,
                           steps=[])
        self.masks = []
        self._held = weakref.WeakSet()
        self.hook_attached = False
        self.full_flops, self.full_params = self.pruner.flops_params({})
        self.check_settings()
        if pretrained is not None:
            load_pretrained(self.architecture.model, pretrained)
        if subnet is not None:
            self.apply_subnet(self.read_subnet(subnet))
            self.steps_done.fill_(len(self.step_epochs()))

    # ------------------------------------------------ for subclasses
    def step_epochs(self) -> List[int]:
        """Epochs at whose start a prune step runs (``[0]``: once)."""
        return [0]

    def choose_subnet(self, step: int, scores):
        """The subnet of prune step ``step`` (0-based) from per-space
        ``scores``; units pruned by earlier steps score lowest."""
        raise NotImplementedError

    def report_fields(self) -> dict:
        """Settings of this algorithm shown in its report."""
        return dict(metric=self.metric)

    def check_settings(self) -> None:
        """Cheap checks of the settings; raise :class:`UserInputError`."""
        if self.finetune not in FINETUNE:
            raise UserInputError(f'{self.NAME} finetune={self.finetune!r} '
                                 f'is not one of {FINETUNE}')
        for key, least in (('num_batches', 1), ('recalibrate_bn', 0)):
            value = getattr(self, key)
            if value is None and key == 'num_batches':
                continue  # every batch
            if isinstance(value, bool) or not isinstance(value, int) or \
                    value < least:
                raise UserInputError(
                    f'{self.NAME} {key}={value!r} must be an integer >= '
                    f'{least}' + (' (0: BN statistics kept)' if least == 0
                                  else ' (training batches scored)'))
        try:
            metric = build_metric(self.metric)
        except (KeyError, TypeError, ValueError) as e:
            raise UserInputError(f'{self.NAME} metric {self.metric!r}: '
                                 f'{e}') from e
        if metric.input_kind == 'feature' and self.data is None:
            raise UserInputError(f'{type(metric).__name__} scores features: '
                                 f'{self.NAME} needs data=dict(train=...)')

    # ------------------------------------------------ state
    @property
    def num_steps(self) -> int:
        return len(self.step_epochs())

    @property
    def is_exported(self) -> bool:
        """Training runs on the physically pruned model."""
        return bool(self.pruned_exported)

    def say(self, msg: str) -> None:
        print_log(f'{self.NAME}: {msg}', logger='mmcls')

    def read_subnet(self, path: str):
        try:
            return self.pruner.load_subnet(path)
        except FileNotFoundError as e:
            raise UserInputError(f'subnet file {path} not found') from e
        except (TypeError, ValueError, KeyError) as e:
            raise UserInputError(f'subnet {path}: {e}') from e

    def init_weights(self):
        """Nothing to do: the weights come from ``pretrained`` or a
        checkpoint, and must not be re-initialised."""

    # ------------------------------------------------ scoring and pruning
    def scores(self):
        """Per-space channel scores of the model as it is now."""
        metric = build_metric(self.metric)
        if metric.input_kind != 'feature':
            return self.pruner.get_metric_local(metric)
        collectors = self.seeded(
            collect_statistics, self.architecture.model, metric,
            build_loader(self.data, 'train', self.seed),
            layers=self.pruner.feature_layer_names(),
            num_batches=self.num_batches)
        return self.pruner.get_metric_local(metric, collectors)

    def seeded(self, fn, *args, **kwargs):
        """``fn`` on the same training batches whatever ran before."""
        # mmcls augments use numpy and python's random (RandomCrop)
        np_state, py_state = np.random.get_state(), random.getstate()
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            np.random.seed(self.seed)
            random.seed(self.seed)
            try:
                return fn(*args, **kwargs)
            finally:
                np.random.set_state(np_state)
                random.setstate(py_state)

    def step_action(self) -> str:
        """What a prune step does first, for the log."""
        return f'scoring channels with {metric_name(self.metric)}'

    def prune_step(self, step: int, optimizer=None):
        """Score, choose and apply prune step ``step`` (0-based); units
        pruned by earlier steps stay pruned. A collective when
        distributed (every rank takes rank 0's subnet)."""
        t0 = time.time()
        evaluating = self.do_evaluate and self.data is not None
        if step == 0 and evaluating:
            self.record['before_pruning'] = self.evaluate_val()
        self.say(f'step {step + 1}/{self.num_steps}: {self.step_action()}'
                 '...')
        scores = self.scores()
        keep = self.pruned_keep.cpu()
        before = self.pruner.subnet_from_keep(keep)
        if step > 0:  # already pruned units rank lowest
            for name, kept in before.items():
                s = scores[name].clone()
                low = -(s.abs().max() * (1 + 1e-6) + 1e-12)
                mask = torch.ones_like(s, dtype=torch.bool)
                mask[kept] = False
                s[mask] = low
                scores[name] = s
        subnet = broadcast_object(self.choose_subnet(step, scores))
        if step > 0:
            subnet = {n: sorted(set(v) & set(before[n]))
                      for n, v in subnet.items()}
        self.apply_subnet(subnet, optimizer)
        self.steps_done.fill_(step + 1)
        flops, params = self.pruner.flops_params(subnet)
        entry = dict(step=step + 1, flops=flops, params=params)
        if evaluating:
            entry['accuracy'] = self.evaluate_val()
            self.record['after_pruning'] = entry['accuracy']
        if self.recalibrate_bn > 0:
            self.seeded(recalibrate_bn, self.architecture.model,
                        build_loader(self.data, 'train', self.seed),
                        self.recalibrate_bn)
            if evaluating:
                entry['accuracy_bn'] = self.evaluate_val()
                self.record['after_recalibration'] = entry['accuracy_bn']
        entry['seconds'] = round(time.time() - t0, 2)
        self.record['steps'].append(entry)
        acc = ''.join(f', val {_first_metric(entry[k])}{what}'
                      for k, what in (('accuracy', ''),
                                      ('accuracy_bn', ' after BN '
                                       'recalibration')) if k in entry)
        self.say(f'step {step + 1}: FLOPs {flops / self.full_flops:.1%} of '
                 f'the unpruned model, params {params / self.full_params:.1%}'
                 f'{acc} ({entry["seconds"]} s)')
        return subnet

    def apply_subnet(self, subnet, optimizer=None) -> None:
        """Set the masks of ``subnet`` and zero the pruned parameters (and
        their state in ``optimizer``)."""
        if self.is_exported:
            raise RuntimeError(f'{self.NAME}: the model is already '
                               'physically pruned; its subnet is fixed')
        self.pruner.set_subnet(subnet)
        self.pruned_keep.copy_(self.pruner.keep_vector())
        self.masks = self.pruner.param_masks()
        zero_pruned_(self.masks, optimizer)

    # ------------------------------------------------ training
    def train_step(self, data, optimizer):
        """mmrazor's step; while masks are held, the first call also hooks
        ``optimizer.step`` so that every update is followed by re-zeroing
        the pruned parameters (momentum and weight decay cannot revive
        them)."""
        if not self.hook_attached:
            print_log(f'{self.NAME}: PruningHook is not registered: no prune '
                      'step, subnet JSON, exported model or report; add '
                      "custom_hooks=[dict(type='PruningHook')]",
                      logger='mmcls', level=30)
            self.hook_attached = True  # warn once
        for opt in (optimizer.values() if isinstance(optimizer, dict)
                    else [optimizer]):
            if opt not in self._held:
                opt.register_step_post_hook(self._after_step)
                self._held.add(opt)
        return super().train_step(data, optimizer)

    def _after_step(self, optimizer, args, kwargs):
        if self.masks:
            zero_pruned_(self.masks, optimizer)

    def evaluate_val(self, max_batches: Optional[int] = None):
        """Val accuracy of the model as it is now (a collective when
        distributed)."""
        if getattr(self, '_val_loader', None) is None:
            self._val_loader = build_loader(self.data, 'val')
        return evaluate(self.architecture.model, self._val_loader,
                        max_batches=max_batches)
