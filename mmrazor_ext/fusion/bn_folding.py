"""Fold every BatchNorm that directly follows a conv or linear layer into
that layer (``torch.nn.utils.fusion``'s maths), found from the traced
graph: the BatchNorm's input is the layer's output, nothing else reads
that output, and both modules run once per forward pass."""
import copy
from typing import Callable, List, Optional, Tuple

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

from .module_paths import set_submodule
from .tracing import trace_layers


def find_conv_bn_pairs(model: nn.Module, input_shape,
                       forward_fn: Optional[Callable] = None,
                       trace=None) -> List[Tuple[str, str]]:
    """``[(conv_or_linear_name, bn_name), ...]`` of foldable pairs, in
    forward order.

    A pair folds when the BatchNorm (with running statistics) reads the
    conv / linear output and nothing else does, and each module is called
    exactly once (a shared module cannot take one BN's statistics).
    """
    trace = trace or trace_layers(model, input_shape, forward_fn)
    modules = dict(model.named_modules())
    producer = {c.out_key: c for c in trace.calls
                if c.kind in ('conv', 'linear')}
    pairs = []
    for call in trace.calls:
        if call.kind != 'norm':
            continue
        bn = modules[call.name]
        src = producer.get(call.in_key)
        if src is None or not isinstance(bn, _BatchNorm) or \
                not bn.track_running_stats or bn.running_mean is None:
            continue
        if trace.consumers.get(call.in_key, 0) != 1 or any(
                trace.module_calls.get(n) != 1 for n in (src.name, call.name)):
            continue
        if src.kind == 'linear' and len(src.out_shape) != 2:
            continue  # BN1d over a sequence reads channels on dim 1
        pairs.append((src.name, call.name))
    return pairs


def fold_bn(model: nn.Module, input_shape, forward_fn: Optional[
        Callable] = None, inplace: bool = False):
    """Fold the BatchNorms of :func:`find_conv_bn_pairs` into their convs /
    linears; each folded BatchNorm becomes ``nn.Identity``.

    Eval-mode outputs are unchanged up to float rounding.

    Args:
        model: The model (left unchanged unless ``inplace``).
        input_shape: ``(C, H, W)`` to trace with.
        forward_fn: See :func:`trace_layers`.
        inplace: Fold into ``model`` itself.

    Returns:
        ``(folded_model, pairs)``.
    """
    if not inplace:
        model = copy.deepcopy(model)
    pairs = find_conv_bn_pairs(model, input_shape, forward_fn)
    modules = dict(model.named_modules())
    for layer_name, bn_name in pairs:
        layer, bn = modules[layer_name], modules[bn_name]
        was = layer.training
        layer.eval()
        bn.eval()
        fuse = fuse_linear_bn_eval if isinstance(layer, nn.Linear) \
            else fuse_conv_bn_eval
        fused = fuse(layer, bn)
        fused.train(was)
        set_submodule(model, layer_name, fused)
        set_submodule(model, bn_name, nn.Identity())
    return model, pairs
