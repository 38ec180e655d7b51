"""OneShot: score the channels of a trained classifier, prune it to a
budget (at once or in steps), fine-tune with the masks held, export."""
import time
import warnings
import weakref
from typing import Dict, Optional, Sequence, Union

import numpy as np
import torch
import torch.distributed as dist
from mmrazor.models.algorithms.base import BaseAlgorithm
from mmrazor.models.builder import ALGORITHMS

from ..apis import UserInputError, check_checkpoint
from ..apis.dist_utils import auto_device
from ..metrics import build_metric, collect_statistics
from ..pruners.sampling import check_ratio
from .evaluation import (build_loader, evaluate, is_distributed, rank,
                         recalibrate_bn)
from .pruned_params import param_masks, zero_pruned_

MODES = ('uniform', 'diff', 'nonuni')


def _say(msg: str) -> None:
    # the root logger gets its log file only after the model is built, so
    # build-time progress is printed (rank 0); OneShotHook logs the record
    if rank() == 0:
        print(f'OneShot: {msg}', flush=True)


def _scoped(architecture: dict) -> dict:
    """The classifier's type looked up in mmcls's registry, so a config
    can reuse an mmcls ``model`` dict (``type='ImageClassifier'``)."""
    model = architecture.get('model')
    if isinstance(model, dict) and '.' not in model.get('type', '.'):
        model = dict(model, type='mmcls.' + model['type'])
        architecture = dict(architecture, model=model)
    return architecture


def _drop_non_persistent(module, state, prefix, local_metadata):
    """mmcv's checkpoint writer keeps non-persistent buffers (for BN's
    sake); the pruner's mask buffers are rebuilt from ``pruned_keep``, so
    they stay out of checkpoints, which then load strictly."""
    for name, sub in module.named_modules(prefix=prefix.rstrip('.')):
        for buf in sub._non_persistent_buffers_set:
            state.pop(f'{name}.{buf}' if name else buf, None)


@ALGORITHMS.register_module(name='OneShot')
class OneShotAlgorithm(BaseAlgorithm):
    """Prune a trained mmcls classifier once (or in ``num_steps`` steps)
    by an importance metric, then fine-tune it with the masks held.

    At build time: load ``pretrained``, evaluate it, score its channels,
    sample a subnet and apply it (pruned weights set to zero), evaluate
    again; all before the runner starts. Fine-tuning is the runner's
    ordinary training; after every optimizer step the pruned parameters
    (and their optimizer state) are multiplied by their masks, so they stay
    exactly zero. ``OneShotHook`` runs the later prune steps, writes the
    subnet JSON, the exported model and the report.

    The subnet travels in the state dict (``pruned_keep``, one bool per
    prunable unit): loading a checkpoint, e.g. on ``--resume-from``,
    restores its masks.

    Args:
        architecture (dict): mmrazor architecture, e.g.
            ``dict(type='MMClsArchitecture', model=...)``.
        pruner (dict): ``ChannelPruner`` config (input_shape, min_channels,
            divisor...).
        pretrained (str, optional): Checkpoint of the trained classifier
            (mmcls ``state_dict`` keys, or this algorithm's own).
        metric (str | dict): Importance metric (``mmrazor_ext.metrics``).
        num_batches (int): Training batches seen by feature metrics.
        mode (str): ``'uniform'`` (same ratio in every space), ``'diff'``
            (one global ranking) or ``'nonuni'`` (``ratios`` per space).
        flops_target (float, optional): Fraction of FLOPs to remove
            (uniform / diff).
        ratio (float, optional): Fraction of channels to remove
            (uniform / diff), if no ``flops_target``.
        ratios (list | dict, optional): Per-space fractions removed
            (nonuni): one per prunable space, or ``{space: ratio}``.
        num_steps (int): Prune in this many steps, the budget reached
            linearly (step k removes ``(k + 1) / num_steps`` of it).
        step_interval (int): Fine-tuning epochs between steps.
        subnet (str, optional): Subnet JSON to apply instead of scoring
            (e.g. ``tools/test.py --subnet``); checked against the model.
        data (dict, optional): The ``data`` config (``train`` for feature
            metrics, ``val`` for the accuracy before / after pruning).
        evaluate (bool): Measure val accuracy before and after pruning.
        recalibrate_bn (int): After each prune step, re-estimate the
            BatchNorm statistics on this many training batches (0: keep
            the unpruned model's); the report then also gives the accuracy
            after recalibration, and fine-tuning starts from it.
        seed (int): Seed of the scoring loader's shuffling.
    """

    def __init__(self, architecture, pruner, pretrained: Optional[str] = None,
                 metric: Union[str, dict] = 'L1Metric', num_batches: int = 20,
                 mode: str = 'diff', flops_target: Optional[float] = None,
                 ratio: Optional[float] = None,
                 ratios: Optional[Union[Sequence[float], Dict]] = None,
                 num_steps: int = 1, step_interval: int = 1,
                 subnet: Optional[str] = None, data: Optional[dict] = None,
                 evaluate: bool = True, recalibrate_bn: int = 0,
                 seed: int = 0, init_cfg=None):
        super().__init__(architecture=_scoped(architecture), pruner=pruner,
                         init_cfg=init_cfg)
        self.metric, self.num_batches, self.mode = metric, num_batches, mode
        self.flops_target, self.ratio, self.ratios = flops_target, ratio, \
            ratios
        self.num_steps, self.step_interval = int(num_steps), step_interval
        self.data, self.do_evaluate, self.seed = data, evaluate, seed
        self.recalibrate_bn = int(recalibrate_bn)
        self.register_buffer('pruned_keep', self.pruner.keep.clone())
        self.register_buffer('steps_done', torch.tensor(0))
        self._register_state_dict_hook(_drop_non_persistent)
        self.record = dict(pretrained=pretrained, subnet_file=subnet,
                           steps=[])
        self.masks = []
        self._held = weakref.WeakSet()
        self.hook_attached = False
        self.full_flops, self.full_params = self.pruner.flops_params(None)
        if pretrained is not None:
            self._load_pretrained(pretrained)
        self.to(auto_device())
        if subnet is not None:
            self.apply_subnet(self._read_subnet(subnet))
            self.steps_done.fill_(self.num_steps)
            return
        self._check_settings()
        if self.do_evaluate and data is not None:
            self.record['before_pruning'] = self.evaluate_val()
        self.prune_step(0)

    # ------------------------------------------------------------ checks
    def _check_settings(self):
        if self.mode not in MODES:
            raise UserInputError(f'OneShot mode {self.mode!r} is not one of '
                                 f'{MODES}')
        if self.num_steps < 1 or self.step_interval < 1:
            raise UserInputError('OneShot num_steps and step_interval must '
                                 'be >= 1')
        if self.mode == 'nonuni':
            if self.ratios is None:
                raise UserInputError("OneShot mode 'nonuni' needs ratios")
        elif (self.flops_target is None) == (self.ratio is None):
            raise UserInputError(f'OneShot mode {self.mode!r} needs exactly '
                                 'one of flops_target and ratio')
        try:
            if self.flops_target is not None:
                check_ratio(self.flops_target, 'flops_target')
            if self.ratio is not None:
                check_ratio(self.ratio, 'ratio')
        except (TypeError, ValueError) as e:
            raise UserInputError(f'OneShot {e}') from e
        if self.flops_target is not None:
            floor = self.pruner.sample_subnet_uniform(0.999)
            most = 1 - self.pruner.flops_params(floor)[0] / self.full_flops
            if self.flops_target > most:
                raise UserInputError(
                    f'flops_target={self.flops_target} cannot be reached: '
                    f'keeping min_channels={self.pruner.min_channels} in '
                    f'every prunable space removes at most {most:.1%} of '
                    'the FLOPs')
        metric = build_metric(self.metric)
        if metric.input_kind == 'feature' and self.data is None:
            raise UserInputError(f'{type(metric).__name__} scores features: '
                                 'OneShot needs data=dict(train=...)')

    def _load_pretrained(self, path: str) -> None:
        ckpt = check_checkpoint(path, 'pretrained')
        state = ckpt.get('state_dict', ckpt)
        prefix = 'architecture.model.'
        if any(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()
                     if k.startswith(prefix)}
        model = self.architecture.model
        own = model.state_dict()
        missing = [k for k in own if k not in state]
        extra = [k for k in state if k not in own]
        shapes = [f'{k} {tuple(v.shape)} vs {tuple(own[k].shape)}'
                  for k, v in state.items()
                  if k in own and tuple(v.shape) != tuple(own[k].shape)]
        if missing or extra or shapes:
            what = (f'shapes differ: {shapes[0]}' if shapes else
                    f'missing keys: {missing[:3]}' if missing else
                    f'unexpected keys: {extra[:3]}')
            raise UserInputError(f'pretrained checkpoint {path} does not '
                                 f'match the architecture ({what})')
        model.load_state_dict(state)

    def _read_subnet(self, path: str):
        try:
            return self.pruner.load_subnet(path)
        except FileNotFoundError as e:
            raise UserInputError(f'subnet file {path} not found') from e
        except (TypeError, ValueError, KeyError) as e:
            raise UserInputError(f'subnet {path}: {e}') from e

    # ------------------------------------------------------------ pruning
    def init_weights(self):
        """Nothing to do: the weights come from ``pretrained`` or a
        checkpoint, and must not be re-initialised after pruning."""

    def scores(self):
        """Per-space channel scores of the model as it is now."""
        metric = build_metric(self.metric)
        if metric.input_kind != 'feature':
            return self.pruner.get_metric_local(metric)
        loader = build_loader(self.data, 'train', self.seed)
        collectors = self._seeded(
            collect_statistics, self.architecture.model, metric, loader,
            layers=self.pruner.feature_layer_names(),
            num_batches=self.num_batches)
        return self.pruner.get_metric_local(metric, collectors)

    def _seeded(self, fn, *args, **kwargs):
        """``fn`` on the same training batches whatever ran before."""
        np_state = np.random.get_state()  # mmcls augments use numpy
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            np.random.seed(self.seed)
            try:
                return fn(*args, **kwargs)
            finally:
                np.random.set_state(np_state)

    def _sample(self, step: int, scores):
        frac = (step + 1) / self.num_steps
        pruner = self.pruner
        if self.mode == 'nonuni':
            ratios = self.ratios
            ratios = ({k: v * frac for k, v in ratios.items()}
                      if isinstance(ratios, dict) else
                      [r * frac for r in ratios])
            return pruner.sample_subnet_nonuni(ratios, scores)
        if self.flops_target is not None:
            return pruner.sample_subnet_flops(self.flops_target * frac,
                                              scores, mode=self.mode)
        sample = getattr(pruner, f'sample_subnet_{self.mode}')
        return sample(self.ratio * frac, scores)

    def prune_step(self, step: int, optimizer=None):
        """Score, sample and apply step ``step`` (0-based); channels pruned
        by earlier steps stay pruned. A collective when distributed."""
        t0 = time.time()
        name = self.metric if isinstance(self.metric, str) else \
            self.metric.get('type')
        _say(f'step {step + 1}/{self.num_steps}: scoring channels with '
             f'{name}...')
        scores = self.scores()
        keep = self.pruned_keep.cpu()
        if step > 0:  # already pruned units rank lowest
            for sp in self.pruner.prunable_spaces:
                k = keep[sp.offset:sp.offset + sp.num_channels]
                s = scores[sp.name].clone()
                s[~k] = -(s.abs().max() * (1 + 1e-6) + 1e-12)
                scores[sp.name] = s
        subnet = self._sample(step, scores)
        if is_distributed():  # rank 0's choice, whatever float noise says
            box = [subnet]
            dist.broadcast_object_list(box, src=0)
            subnet = box[0]
        if step > 0:
            subnet = {sp.name: [i for i in subnet[sp.name]
                                if keep[sp.offset + i]]
                      for sp in self.pruner.prunable_spaces}
        self.apply_subnet(subnet, optimizer)
        self.steps_done.fill_(step + 1)
        flops, params = self.pruner.flops_params(self.pruner.get_subnet())
        entry = dict(step=step + 1, flops=flops, params=params,
                     seconds=round(time.time() - t0, 2))
        evaluating = self.do_evaluate and self.data is not None
        if evaluating:
            entry['accuracy'] = self.evaluate_val()
            self.record['after_pruning'] = entry['accuracy']
        if self.recalibrate_bn > 0:
            self._seeded(recalibrate_bn, self.architecture.model,
                         build_loader(self.data, 'train', self.seed),
                         self.recalibrate_bn)
            if evaluating:
                entry['accuracy_bn'] = self.evaluate_val()
                self.record['after_recalibration'] = entry['accuracy_bn']
        self.record['steps'].append(entry)
        acc = ''.join(f', val top-1 {entry[k]["top-1"]:.2f}{what}'
                      for k, what in (('accuracy', ''),
                                      ('accuracy_bn', ' after BN '
                                       'recalibration')) if k in entry)
        _say(f'step {step + 1}: FLOPs {flops / self.full_flops:.1%} of the '
             f'unpruned model, params {params / self.full_params:.1%}'
             f'{acc} ({entry["seconds"]} s)')
        return subnet

    def apply_subnet(self, subnet, optimizer=None) -> None:
        """Set the masks of ``subnet`` and zero the pruned parameters (and
        their state in ``optimizer``)."""
        self.pruner.set_subnet(subnet)
        self.pruned_keep.copy_(self.pruner.keep)
        self.masks = param_masks(self.architecture.model, self.pruner.layers,
                                 self.pruner.keep)
        zero_pruned_(self.masks, optimizer)

    def subnet_of(self, keep: torch.Tensor):
        return {sp.name: keep[sp.offset:sp.offset + sp.num_channels]
                .nonzero().flatten().tolist()
                for sp in self.pruner.prunable_spaces}

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        if prefix + 'pruned_keep' in state_dict:  # a pruned checkpoint
            self.apply_subnet(self.subnet_of(self.pruned_keep.cpu()))

    # ------------------------------------------------------------ training
    def train_step(self, data, optimizer):
        """mmrazor's step; the first call also hooks ``optimizer.step`` so
        that every update is followed by re-zeroing the pruned parameters
        (momentum and weight decay cannot revive them)."""
        if not self.hook_attached:
            warnings.warn('OneShotHook is not registered: no subnet JSON, '
                          'exported model or report will be written; add '
                          "custom_hooks=[dict(type='OneShotHook')]")
            self.hook_attached = True  # warn once
        for opt in (optimizer.values() if isinstance(optimizer, dict)
                    else [optimizer]):
            if opt not in self._held:
                opt.register_step_post_hook(self._after_step)
                self._held.add(opt)
        return super().train_step(data, optimizer)

    def _after_step(self, optimizer, args, kwargs):
        zero_pruned_(self.masks, optimizer)

    def evaluate_val(self):
        """Val accuracy of the (masked) model; a collective when
        distributed."""
        if getattr(self, '_val_loader', None) is None:
            self._val_loader = build_loader(self.data, 'val')
        return evaluate(self.architecture.model, self._val_loader)
