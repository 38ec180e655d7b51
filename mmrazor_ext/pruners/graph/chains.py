"""Chains of convs and BatchNorms a block computes with only one-input ops
(its nonlinearities) between them, read from the traced graph, for layer
merging (DepthShrinker, ``fusion/layer_merging.py``).

A chain is a module, called once, whose convs (two or more) and norms (its
shortcut's left out) run one after the other, each reading the previous
one's output through one-input ops of the same shape; the first reads the
module's input, and the last gives the module's output, or the branch of
its residual sum (see ``blocks.py``). It is a candidate when it merges into
one conv (at most one spatial conv; the 1x1 ones unstrided, ungrouped,
unpadded) with no more FLOPs than the chain.
"""
from dataclasses import dataclass, field
from typing import List, Optional

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..handlers import handler_for
from .blocks import _residual
from .model_graph import ModelGraph


@dataclass
class ChainInfo:
    """A block whose inner nonlinearities may go."""
    name: str
    act: str  # module whose (input, output) scores the nonlinearity
    flops: int
    merged_flops: int
    layers: List[str] = field(default_factory=list)  # convs and norms
    identity: bool = False  # the block adds its input
    shortcut: Optional[str] = None  # or adds this module's output
    block_act: Optional[str] = None  # module applied after the sum


def mergeable(convs) -> bool:
    """Whether a chain of these convs composes into one conv."""
    spatial = [c for c in convs if c.kernel_size != (1, 1)]
    if len(spatial) > 1 or any(
            c.stride != (1, 1) or c.groups != 1 or c.padding != (0, 0)
            for c in convs if c.kernel_size == (1, 1)):
        return False
    return all(c.dilation == (1, 1) and c.padding_mode == 'zeros'
               for c in convs)


def _is_conv(m) -> bool:
    h = handler_for(m)
    return isinstance(m, nn.Conv2d) and h is not None and h.produces


def _chain(graph, modules, call):
    """``(layer calls, shortcut call, act call, identity)`` or None."""
    parts = _residual(graph, call)
    short, act = parts if parts is not None else (None, None)
    end = call.out_id
    if parts is not None:
        total = act.in_id if act is not None else call.out_id
        a, b = graph.sums[total]
        side = short.out_id if short is not None else call.in_id
        end = b if a == side else a
    skip = short.name + '.' if short is not None else None
    layers = [c for c in graph.inside(call.name)
              if (_is_conv(modules[c.name]) or
                  isinstance(modules[c.name], _BatchNorm)) and
              not (skip and (c.name + '.').startswith(skip))]
    if sum(_is_conv(modules[c.name]) for c in layers) < 2 or \
            not _is_conv(modules[layers[0].name]) or \
            layers[0].in_id != call.in_id or layers[-1].out_id != end:
        return None
    for prev, nxt in zip(layers, layers[1:]):
        if not graph.reaches(prev.out_id, nxt.in_id):
            return None
    return layers, short, act, parts is not None and short is None


def _pick(group, modules):
    """The module named for a chain several modules compute: one adding
    the residual if any, then the outermost that is not a container
    (``nn.Sequential`` and its subclasses: the block, not the stage or
    the list of layers around it)."""
    best = max(v[2] for v in group)
    group = [v for v in group if v[2] == best]
    plain = [v for v in group if not isinstance(
        modules[v[0].name], (nn.Sequential, nn.ModuleList))] or group
    return min(plain, key=lambda v: v[0].name.count('.'))


def find_chains(graph: ModelGraph, model: nn.Module) -> List[ChainInfo]:
    """Blocks whose linearised chain merges into a conv with no more FLOPs
    (in forward order)."""
    modules = dict(model.named_modules())
    counts = {}
    for c in graph.calls:
        counts[c.name] = counts.get(c.name, 0) + 1
    groups = {}  # chain layers -> the modules computing them
    for call in graph.calls:
        if not call.name or counts[call.name] != 1:
            continue
        found = _chain(graph, modules, call)
        if found is not None:
            layers, short, act, identity = found
            residual = short is not None or identity
            groups.setdefault(tuple(c.name for c in layers), []).append(
                (call, found, residual))
    out = []
    for group in groups.values():
        call, (layers, short, act, identity), _ = _pick(group, modules)
        convs = [c for c in layers if _is_conv(modules[c.name])]
        if not mergeable([modules[c.name] for c in convs]):
            continue
        k = max(modules[c.name].kernel_size[0] *
                modules[c.name].kernel_size[1] for c in convs)
        h, w = convs[-1].out_shape[2:4]
        merged = h * w * modules[convs[0].name].in_channels * \
            modules[convs[-1].name].out_channels * k
        flops = graph.flops(call.name) - (
            graph.flops(short.name) if short is not None else 0)
        # the nonlinearity scored: the first module after the first layer
        # group, when it runs once; else the block's input and output
        first = layers[1] if len(layers) > 1 and not _is_conv(
            modules[layers[1].name]) else layers[0]
        scored = next((c.name for c in graph.inside(call.name)
                       if c.in_id == first.out_id and c not in layers and
                       counts[c.name] == 1), call.name)
        if merged <= flops:
            out.append(ChainInfo(
                call.name, scored, flops, merged,
                [c.name for c in layers], identity,
                short.name if short is not None else None,
                act.name if act is not None else None))
    return out
