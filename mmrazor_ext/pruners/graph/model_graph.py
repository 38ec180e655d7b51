"""The traced forward pass as plain data: which module read and wrote which
value, who else read it, which values are sums, and the matrix ops each
module ran (for Fusion's blocks, chains and BN folding, and for exact
FLOPs of any part of a model).

Values are numbered; the autograd graph itself is not kept (it holds the
activations), so a graph can live as long as its pruner.
"""
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch

from ...compat.private_apis import input_metadata
from .op_counter import CountedOp


@dataclass
class ModuleCall:
    """One call of a module with a tensor in and out."""
    name: str
    in_id: int
    out_id: int
    in_shape: Tuple[int, ...]
    out_shape: Tuple[int, ...]


@dataclass
class ModelGraph:
    """A model's traced forward pass (see the module doc).

    Attributes:
        calls: module calls, in the order they returned (inner modules
            before the module calling them).
        consumers: value -> number of autograd nodes reading it.
        sums: value -> the two values it is the sum of (an op with two
            inputs of its shape whose gradient passes to both unchanged).
        follows: value -> the value it was computed from by an op with one
            input of the same shape (activations, dropout, copies).
        inputs: value -> the values the op computing it read.
        ops: the counted matrix ops (``CountedOp.scope``: the module
            running each), ``used``: ``{parameter: shape}`` read,
            ``batch``: the trace batch size.
    """
    calls: List[ModuleCall] = field(default_factory=list)
    consumers: Dict[int, int] = field(default_factory=dict)
    sums: Dict[int, Tuple[int, int]] = field(default_factory=dict)
    follows: Dict[int, int] = field(default_factory=dict)
    inputs: Dict[int, Tuple[int, ...]] = field(default_factory=dict)
    ops: List[CountedOp] = field(default_factory=list)
    used: Dict[str, tuple] = field(default_factory=dict)
    batch: int = 1

    def calls_of(self, name: str) -> List[ModuleCall]:
        return [c for c in self.calls if c.name == name]

    def inside(self, name: str) -> List[ModuleCall]:
        """Calls of the modules below module ``name``, in order."""
        prefix = name + '.' if name else ''
        return [c for c in self.calls if c.name.startswith(prefix) and
                c.name != name]

    def flops(self, prefix: Optional[str] = None) -> int:
        """Multiply-accumulates per sample of the ops run inside module
        ``prefix`` (None: the whole forward), as ``flops.py`` counts
        them."""
        total = [0, 0]  # once per forward, per sample * batch
        for op in self.ops:
            if prefix is None or op.scope == prefix or \
                    op.scope.startswith(prefix + '.'):
                total[op.per_sample] += op.macs
        return total[0] + total[1] // self.batch

    def depth(self) -> int:
        """Matrix ops reading a weight parameter (conv / linear layers)
        in one forward pass."""
        return sum(op.param is not None and op.per_sample
                   for op in self.ops)

    def depends(self, value: int, src: int, avoid=()) -> bool:
        """Whether ``value`` is computed from ``src`` along a path that
        does not pass through the values ``avoid``."""
        stack, seen = [value], set(avoid)
        while stack:
            v = stack.pop()
            if v == src:
                return True
            if v in seen:
                continue
            seen.add(v)
            stack.extend(self.inputs.get(v, ()))
        return False

    def reaches(self, src: int, dst: int, limit: int = 64) -> bool:
        """Whether value ``dst`` is ``src`` or follows from it through
        one-input ops of the same shape (``follows``)."""
        for _ in range(limit):
            if dst == src:
                return True
            if dst not in self.follows:
                return False
            dst = self.follows[dst]
        return False


class ValueIds:
    """Numbers the autograd values of one trace: ``(node, output_nr)``
    keys, and leaf tensors by ``id``."""

    def __init__(self):
        self.ids: Dict[object, int] = {}

    def __call__(self, key) -> int:
        return self.ids.setdefault(key, len(self.ids))

    def edge(self, fn, nr) -> int:
        var = getattr(fn, 'variable', None)
        return self(id(var) if var is not None else (fn, nr))


def _passes_both(node, shape) -> bool:
    """Whether a two-input node passes an output gradient of ones to both
    inputs unchanged (a sum, not a product or a difference)."""
    meta = input_metadata(node)[0]
    try:
        with torch.no_grad():
            grads = node(torch.ones(shape, dtype=meta.dtype,
                                    device=meta.device))
    except RuntimeError:
        return False
    grads = grads if isinstance(grads, (tuple, list)) else [grads]
    return len(grads) == 2 and all(
        isinstance(g, torch.Tensor) and tuple(g.shape) == tuple(shape) and
        bool((g == 1).all()) for g in grads)


def build_model_graph(order, calls, ids: ValueIds,
                      graph: ModelGraph) -> ModelGraph:
    """Fill ``graph`` from the autograd nodes ``order`` (inputs first) and
    the module ``calls`` of one trace (their value ids given by ``ids``).
    Only values a module reads or writes are tested for being sums."""
    graph.calls = calls
    wanted = {c.in_id for c in calls} | {c.out_id for c in calls}
    consumers = Counter()
    for node in order:
        if getattr(node, 'variable', None) is not None:
            continue
        edges = [(fn, nr) for fn, nr in node.next_functions
                 if fn is not None]
        ins = [ids.edge(fn, nr) for fn, nr in edges]
        consumers.update(ins)
        meta = input_metadata(node)
        for nr in range(len(meta)):
            graph.inputs[ids((node, nr))] = tuple(ins)
        if len(meta) != 1:
            continue
        out, shape = ids((node, 0)), tuple(meta[0].shape)
        shapes = [_shape(fn, nr) for fn, nr in edges]
        if len(ins) == 1 and shapes[0] == shape:
            graph.follows[out] = ins[0]
        elif len(ins) == 2 and out in wanted and shapes[0] == shape and \
                shapes[1] == shape and _passes_both(node, shape):
            graph.sums[out] = (ins[0], ins[1])
    graph.consumers = dict(consumers)
    return graph


def _shape(fn, nr):
    var = getattr(fn, 'variable', None)
    if var is not None:
        return tuple(var.shape)
    return tuple(input_metadata(fn)[nr].shape)
