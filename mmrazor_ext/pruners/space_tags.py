"""Which channel spaces an exported model's failure or mismatch comes from.

The exported model is run again with every tensor tagged by the pruned
channel spaces it carries: a recognised layer's output carries the spaces
of its output channels, any other op's output the union of its inputs'
tags (a torch function mode, so functional code and methods are seen
too). When an op fails, the spaces are the tags of its inputs and the
layer is the innermost module running. When the exported model runs but
differs from the masked one, each recognised layer's output is compared
with the masked model's on the kept channels, in forward order; the
spaces are the tags of the first differing layer's input (or its own
spaces when its input carries none).
"""
import weakref
from typing import Dict, FrozenSet, List, NamedTuple, Optional

import torch
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from ..utils.tensor_compare import output_tensors, relative_error
from .handlers import handler_of
from .handlers.layer_record import LayerRecord, kept

Tags = FrozenSet[str]
_NONE: Tags = frozenset()


class Located(NamedTuple):
    """Spaces found responsible and where: ``where`` names the layer."""
    spaces: List[str]
    where: str


class SpaceIndex:
    """Unit index -> name of its space, and the spaces ``keep`` prunes."""

    def __init__(self, spaces, keep: Tensor):
        self.names = [sp.name for sp in spaces]
        self.unit_space = torch.full((keep.numel(), ), -1, dtype=torch.long)
        pruned = []
        for i, sp in enumerate(spaces):
            self.unit_space[sp.offset:sp.offset + sp.num_channels] = i
            if not bool(keep[sp.offset:sp.offset + sp.num_channels].all()):
                pruned.append(i)
        self.pruned = set(pruned)

    def of(self, pos: Optional[Tensor]) -> Tags:
        """Names of the pruned spaces among unit positions ``pos``."""
        if pos is None:
            return _NONE
        idx = self.unit_space[pos[pos >= 0]].unique().tolist()
        return frozenset(self.names[i] for i in idx if i in self.pruned)


def layer_tags(rec: LayerRecord, index: SpaceIndex) -> Tags:
    """The pruned spaces a layer's output carries."""
    return index.of(rec.out_pos if rec.out_pos is not None else rec.in_pos)


class _Tagger(TorchFunctionMode):
    """Tags each tensor an op returns with the union of its inputs' tags;
    remembers the tags of the inputs of the last op, if it failed."""

    def __init__(self):
        super().__init__()
        self._tags: Dict[int, tuple] = {}  # id -> (weakref, tags)
        self.failed: Optional[Tags] = None
        self.last: Tags = _NONE

    def get(self, t) -> Tags:
        entry = self._tags.get(id(t))
        return entry[1] if entry is not None and entry[0]() is t else _NONE

    def put(self, t: Tensor, tags: Tags) -> None:
        if tags:
            self._tags[id(t)] = (weakref.ref(t), tags)
        else:
            self._tags.pop(id(t), None)

    def tags_of(self, *objs) -> Tags:
        out = _NONE
        for t in output_tensors(list(objs)):
            out = out | self.get(t)
        return out

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tags = self.tags_of(args, kwargs)
        try:
            out = func(*args, **kwargs)
        except Exception:
            self.failed = tags
            raise
        self.failed = None  # a failure the model caught itself
        if tags:
            self.last = tags
            for t in output_tensors(out):
                self.put(t, tags)
        return out


def _restrict(rec: LayerRecord, t, pos, keep: Tensor) -> Optional[Tensor]:
    """A masked layer's input or output (``pos``: its units) on the
    channels export keeps; None where it cannot be compared."""
    if not isinstance(t, Tensor):
        return None
    if pos is None:
        return t
    dim = handler_of(rec).channel_dim(rec, t.dim())
    if dim >= t.dim() or t.shape[dim] != pos.numel():
        return None
    return t.index_select(dim, kept(pos, keep).nonzero().flatten().to(
        t.device))


def _first(args):
    return args[0] if args else None


def _record_masked(model, layers, keep, run) -> Dict[tuple, Tensor]:
    """``{(layer, call, 'in' / 'out'): masked tensor on kept channels}``."""
    store: Dict[tuple, Tensor] = {}
    calls: Dict[str, int] = {}
    handles = []

    def hooks(name, rec):
        def pre(module, args):
            k = calls[name] = calls.get(name, -1) + 1
            store[name, k, 'in'] = _restrict(rec, _first(args), rec.in_pos,
                                             keep)

        def post(module, args, out):
            store[name, calls[name], 'out'] = _restrict(rec, out,
                                                        rec.out_pos, keep)
        return pre, post

    for name, rec in layers.items():
        if handler_of(rec).compared:
            pre, post = hooks(name, rec)
            m = model.get_submodule(name)
            handles += [m.register_forward_pre_hook(pre),
                        m.register_forward_hook(post)]
    try:
        run(model)
    finally:
        for h in handles:
            h.remove()
    return store


def locate(model: nn.Module, small: nn.Module,
           layers: Dict[str, LayerRecord], index: SpaceIndex, keep: Tensor,
           run, failed: bool, rtol: float) -> Located:
    """Spaces behind a failure (``failed``) or a mismatch of ``small``.

    Args:
        model: the masked model, masks set to ``keep``.
        small: the model exported from ``keep``.
        layers: the pruner's layer records.
        index: space names of units, pruned spaces of ``keep``.
        keep: one bool per prunable unit.
        run: ``run(module) -> output``, the forward on the trace input.
        failed: ``small``'s forward raised (else its output differs).
        rtol: relative tolerance of a layer's input / output.

    Returns:
        A failure: the tags of the failing op's inputs (of the last op's,
        when the failure is not in a torch op) and the innermost module
        running. A mismatch: the first recognised layer whose input
        differs (the tags of that input: the ops before it) or whose
        output differs from an equal input (the layer's own spaces).
    """
    recorded = {n: r for n, r in layers.items()
                if handler_of(r).names_module}
    expected = {} if failed else _record_masked(model, recorded, keep, run)
    tagger = _Tagger()
    stack: List[str] = []
    first: List[Located] = []
    calls: Dict[str, int] = {}
    names = {m: n for n, m in small.named_modules()}

    def differs(key, t):
        ref = expected.get(key)
        return not first and ref is not None and isinstance(t, Tensor) \
            and relative_error(t, ref) > rtol

    def enter(module, args):
        name = names[module]
        stack.append(name)
        if name in recorded:
            k = calls[name] = calls.get(name, -1) + 1
            if differs((name, k, 'in'), _first(args)):
                first.append(Located(sorted(tagger.tags_of(args)), name))

    def leave(module, args, out):
        name = stack.pop() if stack else names[module]
        rec = recorded.get(name)
        if rec is None:
            return
        tags = layer_tags(rec, index)
        for t in output_tensors(out):
            tagger.put(t, tags)
        if differs((name, calls.get(name, 0), 'out'), out):
            own = index.of(rec.in_pos) | index.of(rec.out_pos)
            first.append(Located(sorted(own), name))

    handles = []
    for m in names:
        handles += [m.register_forward_pre_hook(enter),
                    m.register_forward_hook(leave)]
    try:
        with tagger:
            run(small)
    except Exception:  # noqa: BLE001 (the failure being located)
        pass
    finally:
        for h in handles:
            h.remove()
    if failed:
        tags = tagger.failed if tagger.failed else tagger.last
        return Located(sorted(tags), _describe(small, stack[-1] if stack
                                               else ''))
    if first:
        loc = first[0]
        spaces = loc.spaces or sorted(layer_tags(recorded[loc.where], index))
        return Located(spaces, _describe(small, loc.where))
    return Located([], 'the model output')


def _describe(small: nn.Module, name: str) -> str:
    if not name:
        return 'the model'
    return f'{name} ({type(small.get_submodule(name)).__name__})'
