"""Fold every BatchNorm that directly follows a conv or linear layer into
that layer (``torch.nn.utils.fusion``'s maths), found from the traced
graph: the BatchNorm's input is the layer's output, nothing else reads
that output, and both modules run once per forward pass."""
import copy
from typing import Callable, Optional

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

from ..pruners.graph.conv_bn import find_conv_bn_pairs
from ..pruners.graph.graph_tracer import trace_graph
from .module_paths import set_submodule


def fold_bn(model: nn.Module, input_shape, forward_fn: Optional[
        Callable] = None, inplace: bool = False):
    """Fold the BatchNorms of ``find_conv_bn_pairs`` (on the model's
    traced graph) into their convs / linears; each folded BatchNorm
    becomes ``nn.Identity``.

    Eval-mode outputs are unchanged up to float rounding.

    Args:
        model: The model (left unchanged unless ``inplace``).
        input_shape: ``(C, H, W)`` to trace with.
        forward_fn: ``(model, x) -> outputs`` traced (default: the
            adapter's forward of a classifier).
        inplace: Fold into ``model`` itself.

    Returns:
        ``(folded_model, pairs)``.
    """
    if not inplace:
        model = copy.deepcopy(model)
    pairs = find_conv_bn_pairs(trace_graph(model, input_shape, forward_fn),
                               model)
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
