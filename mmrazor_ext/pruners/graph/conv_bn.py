"""Conv-BN pairs of a traced graph: a BatchNorm that alone reads a conv's
(or a linear layer's) output, each module called once, folds into it."""
from typing import List, Tuple

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd

from ..handlers import handler_for
from .model_graph import ModelGraph


def _foldable(module: nn.Module) -> bool:
    """A conv / linear layer computing the stock op (torch's folding
    maths apply)."""
    h = handler_for(module)
    return h is not None and h.produces and isinstance(
        module, (_ConvNd, nn.Linear))


def find_conv_bn_pairs(graph: ModelGraph, model: nn.Module
                       ) -> List[Tuple[str, str]]:
    """``[(conv_or_linear_name, bn_name), ...]`` of foldable pairs, in
    forward order.

    A pair folds when the BatchNorm (with running statistics) reads the
    conv / linear output and nothing else does, and each module is called
    exactly once (a shared module cannot take one BN's statistics).
    """
    modules = dict(model.named_modules())
    counts = {}
    for c in graph.calls:
        counts[c.name] = counts.get(c.name, 0) + 1
    producer = {c.out_id: c for c in graph.calls if _foldable(
        modules[c.name])}
    pairs = []
    for call in graph.calls:
        bn = modules[call.name]
        src = producer.get(call.in_id)
        if src is None or not isinstance(bn, _BatchNorm) or \
                not bn.track_running_stats or bn.running_mean is None:
            continue
        if graph.consumers.get(call.in_id, 0) != 1 or any(
                counts[n] != 1 for n in (src.name, call.name)):
            continue
        if isinstance(modules[src.name], nn.Linear) and \
                len(src.out_shape) != 2:
            continue  # BN1d over a sequence reads channels on dim 1
        pairs.append((src.name, call.name))
    return pairs
