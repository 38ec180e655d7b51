"""The matrix ops and parameters of the traced forward pass.

While the tracer runs the model, :class:`OpCounter` (a dispatch mode, so it
sees the ATen ops below every module and functional call: ``nn.Conv2d``,
``F.linear`` on a module's parameters, ``nn.MultiheadAttention``'s
``in_proj_weight``, ``torch.matmul``, ``einsum``, scaled dot-product
attention) records each matrix op with its multiply-accumulates and notes
every parameter the forward reads. Recorded, as torch's
``torch.utils.flop_counter.FlopCounterMode`` counts them (its total / 2):
``mm``, ``addmm``, ``bmm``, ``baddbmm``, convolutions and the fused
attention kernels; elementwise ops, norms and pooling are not. After the
trace, each op between activations learns which traced channels run
along its dims (:func:`resolve_dims`, :func:`resolve_positions`);
``pruners/flops.py`` counts them under a subnet.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from ...compat.private_apis import dispatch_mode_class
from ...utils.tensor_compare import output_tensors


aten = torch.ops.aten


def numel(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


@dataclass
class CountedOp:
    """One matrix op of the traced forward.

    Attributes:
        macs: multiply-accumulates over the whole trace batch.
        param: name of the parameter acting as the op's weight, or None.
        view: ``(size, stride, offset)`` of the weight when the op reads
            only part of the parameter (a chunk of ``in_proj_weight``).
        dims: for ops between activations, ``(size, where)`` per iteration
            dim; ``where`` is the operand's autograd key and dim until the
            trace resolves it into unit positions (``pos``) or None.
        out_axis: ``(param dim, start, size)``: the weight entries along
            the op's output features (a weight op).
        feeds / sources: operand keys of an op between activations, then
            per operand the indices of the counted ops producing it (found
            back through shape-only ops): when no dim of the op resolves,
            it scales as the least kept of its operands.
        out_key: the autograd key of the op's output.
        per_sample: the op depends on the input (it runs once per sample);
            False for ops on parameters alone (Swin V2's position-bias MLP),
            which run once per forward.
        scope: name of the innermost module running the op ('' for the
            model itself).
    """
    macs: int
    param: Optional[str] = None
    view: Optional[Tuple] = None
    dims: List[list] = field(default_factory=list)
    out_axis: Optional[Tuple[int, int, int]] = None
    feeds: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    out_key: object = None
    per_sample: bool = True
    scope: str = ''


def _conv_macs(args, out) -> int:
    x, w = args[0], args[1]
    transposed = len(args) > 6 and args[6] is True
    spatial = x.shape[2:] if transposed else out.shape[2:]
    return x.shape[0] * numel(w.shape) * numel(spatial)


def _mm(a, b, batch=()):
    # iteration dims: batch..., M, K, N with the operand dims feeding them
    dims = [(int(s), [(0, i), (1, i)]) for i, s in enumerate(batch)]
    nb = len(batch)
    dims += [(int(a.shape[nb]), [(0, nb)]),
             (int(a.shape[nb + 1]), [(0, nb + 1), (1, nb)]),
             (int(b.shape[nb + 1]), [(1, nb + 1)])]
    return dims


def _sdpa(q, k, v):
    batch = [(int(s), [(0, i)]) for i, s in enumerate(q.shape[:-2])]
    lq, sk = (int(q.shape[-2]), [(0, q.dim() - 2)]), \
        (int(k.shape[-2]), [(1, k.dim() - 2)])
    e = (int(q.shape[-1]), [(0, q.dim() - 1), (1, k.dim() - 1)])
    qk = batch + [lq, sk, e]
    av = batch + [lq, sk, (int(v.shape[-1]), [(2, v.dim() - 1)])]
    return [qk, av]


_SDPA = ('_scaled_dot_product_flash_attention',
         '_scaled_dot_product_flash_attention_for_cpu',
         '_scaled_dot_product_efficient_attention',
         '_scaled_dot_product_cudnn_attention')
_CONV = ('convolution', '_convolution', 'convolution_overrideable',
         'cudnn_convolution', '_slow_conv2d_forward')


_MM = ('mm', 'addmm', 'bmm', 'baddbmm')
_RECORDED = frozenset(_CONV + _MM + _SDPA)  # the ops ``_record`` counts


def _param_of(t) -> Optional[nn.Parameter]:
    if isinstance(t, nn.Parameter):
        return t
    base = getattr(t, '_base', None) if isinstance(t, Tensor) else None
    return base if isinstance(base, nn.Parameter) else None


def _axis(w: Tensor, p: Tensor, axis: int):
    """``(param dim, start, size)`` of view ``w``'s dim ``axis``."""
    if not p.is_contiguous() or w.dim() == 0:
        return None
    stride, size = w.stride(axis), w.shape[axis]
    for d in range(p.dim()):
        if p.stride(d) == stride and p.shape[d] >= size:
            start = (w.storage_offset() - p.storage_offset()) // stride
            return d, start % p.shape[d], size
    return None


def tensor_key(t: Tensor):
    """The tracer's key of a value: its autograd output, or the tensor."""
    return (t.grad_fn, t.output_nr) if t.grad_fn is not None else id(t)


class OpCounter(dispatch_mode_class()):
    """Records the matrix ops and the parameters of one forward pass.

    Args:
        model: the traced model; parameters are named as in
            ``model.named_parameters()``.

    Attributes:
        scope: the names of the modules running, innermost last (kept by
            the tracer's module hooks); each op notes the innermost.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.names = {id(p): n for n, p in model.named_parameters()}
        self.ops: List[CountedOp] = []
        self.used: Dict[str, Tuple[int, ...]] = {}  # name -> shape
        self.scope: List[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        names = self.names
        for a in args:
            if isinstance(a, Tensor):
                # a parameter, or a view of one; the names hold only
                # parameters of the model, so an id is one of them
                p = a if id(a) in names else a._base
                if p is not None and id(p) in names:
                    self.used.setdefault(names[id(p)], tuple(p.shape))
            elif isinstance(a, (list, tuple, dict)):  # cat's tensors too
                for t in output_tensors(a):
                    self._use(t)
        name = getattr(getattr(func, 'overloadpacket', None), '__name__',
                       None)
        if name not in _RECORDED:
            return out
        n = len(self.ops)
        try:
            self._record(name, args, out)
        except (AttributeError, IndexError, TypeError):  # pragma: no cover
            pass
        for op in self.ops[n:]:
            op.scope = self.scope[-1] if self.scope else ''
        return out

    def _use(self, t: Tensor) -> None:
        p = _param_of(t)
        if p is not None and id(p) in self.names:
            self.used.setdefault(self.names[id(p)], tuple(p.shape))

    def _record(self, name, args, out):
        if name in _CONV:
            self._add(_conv_macs(args, out), [(args[1], 0)], args, [], out)
        elif name in _MM:
            a, b = args[-2:]
            batch = a.shape[:1] if name in ('bmm', 'baddbmm') else ()
            dims = _mm(a, b, batch)
            self._add(numel(d[0] for d in dims), [(b, -1), (a, -2)],
                      [a, b], [dims], out)
        elif name in _SDPA:
            q, k, v = args[:3]
            for dims, feeds, o in zip(_sdpa(q, k, v), ([q, k], [v]),
                                      (None, out[0])):
                self.ops.append(CountedOp(
                    numel(d[0] for d in dims),
                    dims=self._where(dims, [q, k, v]),
                    feeds=[tensor_key(t) for t in feeds], out_key=o))

    def _add(self, macs, weights, operands, groups, out):
        for w, axis in weights:
            p = _param_of(w)
            if p is not None and id(p) in self.names:
                view = None if w.numel() == p.numel() or \
                    not p.is_contiguous() else (
                        tuple(w.shape), tuple(w.stride()),
                        w.storage_offset() - p.storage_offset())
                self.ops.append(CountedOp(macs, self.names[id(p)], view,
                                          out_axis=_axis(w, p, axis),
                                          out_key=out))
                return
        dims = self._where(groups[0], operands) if groups else []
        self.ops.append(CountedOp(macs, dims=dims, out_key=out, feeds=[
            tensor_key(t) for t in operands[:2]]))

    @staticmethod
    def _where(dims, operands):
        out = []
        for size, feeds in dims:
            where = [(tensor_key(operands[i]), d, tuple(operands[i].shape))
                     for i, d in feeds]
            out.append([size, where])
        return out


def resolve_dims(ops: List[CountedOp], values: Dict,
                 dependent: set) -> None:
    """Replace each activation op's operand keys by the channel element ids
    the tracer followed there (``values``: key -> ``Traced``), or None;
    where none is found, link the op to the ops producing its operands.
    ``dependent``: the autograd nodes that depend on the traced input."""
    for op in ops:
        if isinstance(op.out_key, Tensor):
            op.out_key = tensor_key(op.out_key)
        keys = [op.out_key] + list(op.feeds)
        op.per_sample = any(isinstance(k, tuple) and k[0] in dependent
                            for k in keys)
        for entry in op.dims:
            size, feeds = entry
            ids = None
            for key, d, shape in feeds:
                v = values.get(key)
                if v is not None and v.dim == d and v.ids.numel() == size \
                        and shape[d] == size:
                    ids = v.ids
                    break
            entry[1] = ids
    _link_sources(ops)


def _link_sources(ops: List[CountedOp], limit: int = 256) -> None:
    producer = {op.out_key[0]: i for i, op in enumerate(ops)
                if isinstance(op.out_key, tuple)}
    for op in ops:
        if op.param is not None or any(e[1] is not None for e in op.dims):
            continue
        op.sources = []
        for key in op.feeds:
            found, seen = [], set()
            stack = [key[0]] if isinstance(key, tuple) else []
            while stack and len(seen) < limit:
                fn = stack.pop()
                if fn is None or fn in seen:
                    continue
                seen.add(fn)
                if fn in producer:
                    found.append(producer[fn])
                    continue
                stack.extend(f for f, _ in fn.next_functions)
            op.sources.append(found)
        op.feeds = []
    for op in ops:
        op.out_key = None


def resolve_positions(ops: List[CountedOp], union, layers: Dict) -> None:
    """Element ids -> prunable unit positions (-1: never pruned), through
    the positions the layers got from grouping."""
    if not any(e[1] is not None for op in ops for e in op.dims):
        return
    roots = union.roots()
    table = torch.full((roots.numel(), ), -1, dtype=torch.long)
    for rec in layers.values():
        for ids, pos in ((rec.in_ids, rec.in_pos), (rec.out_ids,
                                                    rec.out_pos)):
            if ids is not None and pos is not None:
                ok = ids >= 0
                table[roots[ids[ok]]] = pos[ok]
    for op in ops:
        for entry in op.dims:
            ids = entry[1]
            if ids is not None:
                pos = torch.full_like(ids, -1)
                ok = ids >= 0
                pos[ok] = table[roots[ids[ok]]]
                entry[1] = pos if bool((pos >= 0).any()) else None
