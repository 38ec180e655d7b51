"""Run a model over data and feed the collectors of a feature metric."""
from typing import Dict, Iterable, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmcv.parallel import is_module_wrapper
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd
from torch.nn.modules.instancenorm import _InstanceNorm

from ..adapters import (classification_loss, inference, residual_blocks,
                        split_batch)
from .base_metric import WEIGHT_KINDS, BaseMetric
from .builder import build_metric
from .stats_collector import StatsCollector

NORMS = (_BatchNorm, _InstanceNorm, nn.GroupNorm, nn.LayerNorm)
MetricLike = Union[str, dict, BaseMetric]


def default_layers(model: nn.Module, input_kind: str = 'feature') -> List[str]:
    """Layers to score when nobody (e.g. a Pruner) chose them.

    - ``'feature'`` / ``'norm_weight'``: every norm layer (or, for
      ``'feature'``, every conv when the model has no norm layer).
    - ``'conv_weight'``: every conv.
    - ``'block_feature'``: every residual block
      (:func:`mmrazor_ext.adapters.residual_blocks`).
    """
    model = model.module if is_module_wrapper(model) else model
    named = list(model.named_modules())

    def of(types):
        return [n for n, m in named if isinstance(m, types)]

    if input_kind == 'block_feature':
        return residual_blocks(model)
    if input_kind == 'conv_weight':
        return of(_ConvNd)
    if input_kind == 'norm_weight':
        return [n for n in of(NORMS)
                if getattr(model.get_submodule(n), 'weight', None) is not None]
    return of(NORMS) or of(_ConvNd)


def collect_statistics(model: nn.Module, metric: MetricLike,
                       data: Iterable, layers: Optional[Sequence[str]] = None,
                       num_batches: Optional[int] = None,
                       device: Optional[Union[str, torch.device]] = None,
                       sync: bool = True) -> Dict[str, StatsCollector]:
    """Hook ``layers`` of ``model``, run it on ``data`` and fold every batch
    into one collector per layer.

    The model runs in eval mode (restored afterwards) under no_grad
    (:func:`mmrazor_ext.adapters.inference`), except for metrics that need
    gradients: then each batch's summed loss
    (:func:`mmrazor_ext.adapters.classification_loss`) is differentiated
    with ``torch.autograd.grad`` w.r.t. the hooked outputs, so parameter
    ``.grad`` is left alone.

    Args:
        model: A classifier the adapter knows (or a wrapper around one) or
            any ``nn.Module`` mapping images to logits.
        metric: A feature or block metric, or its name / config.
        data: Iterable of batches that
            :func:`mmrazor_ext.adapters.split_batch` reads.
        layers: Module names to hook; default :func:`default_layers`.
        num_batches: Stop after this many batches (default: all).
        device: Where to run; default the model's parameters' device.
        sync: All-reduce statistics across ranks at ``compute``.

    Returns:
        ``{layer: collector}``; ``collector.compute()`` gives the scores.
    """
    metric = build_metric(metric)
    name = type(metric).__name__
    if metric.input_kind in WEIGHT_KINDS:
        raise ValueError(f'{name} scores weights, not features; use '
                         f'collect_scores(model, {name!r}) without data')
    if data is None:
        raise ValueError(f'{name} scores features: give data (a data loader '
                         f'or a list of batches)')
    model = model.module if is_module_wrapper(model) else model
    layers = _check_layers(model, metric, layers)
    if device is None:
        param = next(model.parameters(), None)
        device = param.device if param is not None else 'cpu'
    collectors = {n: metric.collector(sync=sync) for n in layers}
    runner = _Runner(model, metric, collectors, device)
    was_training = model.training
    model.eval()
    try:
        seen = runner.run(data, num_batches)
    finally:
        runner.remove()
        model.train(was_training)
    if seen == 0:
        raise ValueError(f'{name}: the data gave no batch')
    idle = [n for n, c in collectors.items() if c.num_batches == 0]
    if idle:
        raise ValueError(f"layers {idle} were not run by the model's "
                         f'forward pass')
    return collectors


def collect_scores(model: nn.Module, metric: MetricLike,
                   data: Optional[Iterable] = None,
                   layers: Optional[Sequence[str]] = None,
                   num_batches: Optional[int] = None,
                   device: Optional[Union[str, torch.device]] = None
                   ) -> Dict[str, Tensor]:
    """Scores of ``layers`` by any metric: weight metrics read the modules'
    weights, the others run :func:`collect_statistics` on ``data``.

    Returns:
        ``{layer: 1-D float tensor}``.
    """
    metric = build_metric(metric)
    if metric.input_kind in WEIGHT_KINDS:
        model = model.module if is_module_wrapper(model) else model
        layers = _check_layers(model, metric, layers)
        contents = {}
        for n in layers:
            weight = getattr(model.get_submodule(n), 'weight', None)
            if not isinstance(weight, Tensor):
                raise ValueError(f'{type(metric).__name__}: layer {n!r} has '
                                 f'no weight tensor')
            contents[n] = weight
        return metric(contents)
    collectors = collect_statistics(model, metric, data, layers, num_batches,
                                    device)
    return {n: c.compute() for n, c in collectors.items()}


def _check_layers(model, metric, layers) -> List[str]:
    modules = dict(model.named_modules())
    if layers is None:
        layers = default_layers(model, metric.input_kind)
        if not layers:
            raise ValueError(f'{type(model).__name__} has no layer of kind '
                             f'{metric.input_kind!r}; give layers=[...]')
    layers = [layers] if isinstance(layers, str) else list(layers)
    for n in layers:
        if n not in modules or n == '':
            examples = ', '.join(list(modules)[1:4])
            raise ValueError(f'layer {n!r} is not a module of '
                             f'{type(model).__name__} (names look like: '
                             f'{examples}, ...)')
    return layers


class _Runner:
    """Hooks and the per-batch loop of :func:`collect_statistics`."""

    def __init__(self, model, metric, collectors, device):
        self.model, self.metric, self.device = model, metric, device
        self.collectors = collectors
        self.labels = None
        self.outputs = {}  # layer -> its output, for gradients
        self.inputs = {}  # layer -> block input
        self.handles = []
        block = metric.input_kind == 'block_feature'
        for n in collectors:
            module = model.get_submodule(n)
            if block:
                self.handles.append(module.register_forward_pre_hook(
                    self._pre_hook(n)))
            self.handles.append(module.register_forward_hook(self._hook(n)))

    def _pre_hook(self, name):
        def hook(module, inputs):
            # a clone: the block may change its input in place
            self.inputs[name] = inputs[0].detach().clone()
        return hook

    def _hook(self, name):
        def hook(module, inputs, output):
            if not isinstance(output, Tensor):
                raise TypeError(f'layer {name!r} returns '
                                f'{type(output).__name__}, not a tensor')
            if self.metric.needs_grads:
                # hand the model a copy so in-place ops after this layer
                # (ReLU(inplace=True)) leave our node and value untouched
                self.outputs[name] = output
                return output.clone()
            features = output
            if self.metric.input_kind == 'block_feature':
                features = (self.inputs.pop(name), output)
            self.collectors[name].update(features, self.labels)
        return hook

    def remove(self):
        for handle in self.handles:
            handle.remove()

    def run(self, data, num_batches) -> int:
        seen = 0
        if num_batches is not None and num_batches <= 0:
            return seen
        for batch in data:
            img, labels = split_batch(batch)
            if self.metric.needs_labels and labels is None:
                raise ValueError(f'{type(self.metric).__name__} needs labels '
                                 f'but the batches have no gt_label')
            img = img.to(self.device)
            self.labels = None if labels is None else \
                torch.as_tensor(labels).to(self.device)
            if self.metric.needs_grads:
                self._grad_step(img)
            else:
                with torch.no_grad():
                    inference(self.model, img)
            seen += 1
            if num_batches is not None and seen >= num_batches:
                break  # before the loader prepares a batch nobody uses
        return seen

    def _grad_step(self, img):
        if self.labels is None:
            raise ValueError(f'{type(self.metric).__name__} back-propagates '
                             f'a loss and needs labels (gt_label)')
        self.outputs = {}
        with torch.enable_grad():
            # images require grad so features do even with frozen weights
            loss = classification_loss(
                self.model, img.detach().requires_grad_(), self.labels)
            missing = [n for n in self.collectors if n not in self.outputs]
            if missing:
                raise RuntimeError(f'layers {missing} were not run by the '
                                   f"model's forward pass")
            names = list(self.collectors)
            grads = torch.autograd.grad(
                loss, [self.outputs[n] for n in names], allow_unused=True)
        for n, grad in zip(names, grads):
            value = self.outputs[n].detach()
            grad = torch.zeros_like(value) if grad is None else grad
            self.collectors[n].update(value, self.labels, grad)
        self.outputs = {}
