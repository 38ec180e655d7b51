"""FLOPs (multiply-accumulates) and parameters of every op the forward runs.

While the tracer runs the model, :class:`OpCounter` (a dispatch mode, so it
sees the ATen ops below every module and functional call: ``nn.Conv2d``,
``F.linear`` on a module's parameters, ``nn.MultiheadAttention``'s
``in_proj_weight``, ``torch.matmul``, ``einsum``, scaled dot-product
attention) records each matrix op with its multiply-accumulates and notes
every parameter the forward reads. Counted, as torch's
``torch.utils.flop_counter.FlopCounterMode`` counts them (its total / 2):
``mm``, ``addmm``, ``bmm``, ``baddbmm``, convolutions and the fused
attention kernels; elementwise ops, norms and pooling are not.

Under a subnet the counts follow what :func:`export.parameter_slices`
says export keeps:

- an op whose weight is a parameter (or a view of one) scales with the
  kept entries of that parameter, so the masked count equals the count of
  the exported model traced afresh;
- an op between two activations (attention's ``q @ k^T``) scales with the
  kept channels the tracer followed into its operands, else is counted
  whole;
- parameters: every parameter the forward reads, once, with its kept
  entries.

Counts are per input sample at the trace input size.
"""
from fractions import Fraction
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .graph.op_counter import CountedOp, numel
from .handlers.layer_record import kept


def _kept_numel(shape, sl) -> int:
    n = 1
    for i, s in enumerate(shape):
        k = sl[i] if sl is not None and i < len(sl) else None
        n *= int(s) if k is None else int(k.numel())
    return n


def _kept_view(shape, sl, view) -> int:
    m = torch.ones(shape, dtype=torch.bool)
    for i, k in enumerate(sl[:len(shape)]):
        if k is not None:
            d = torch.zeros(shape[i], dtype=torch.bool)
            d[k.cpu()] = True
            v = [1] * len(shape)
            v[i] = shape[i]
            m &= d.view(v)
    return int(m.as_strided(*view).sum())


def _out_fraction(ops, i, slices, frac) -> Fraction:
    """Kept fraction of op ``i``'s output features (a weight op) or of its
    multiply-accumulates (an op between activations)."""
    if i in frac:
        return frac[i]
    frac[i] = Fraction(1)  # guards cycles
    op = ops[i]
    if op.param is not None:
        f = Fraction(1)
        sl = slices.get(op.param)
        if op.out_axis is not None and sl is not None and \
                op.out_axis[0] < len(sl) and sl[op.out_axis[0]] is not None:
            d, start, size = op.out_axis
            k = sl[d]
            n = int(((k >= start) & (k < start + size)).sum())
            f = Fraction(n, size)
    else:
        f = Fraction(1)
        for found in op.sources:
            for j in found:
                f = min(f, _out_fraction(ops, j, slices, frac))
    frac[i] = f
    return f


def _op_macs(ops, i, used, slices, keep, frac) -> int:
    op = ops[i]
    if op.param is None and op.sources and keep is not None and \
            slices and all(e[1] is None for e in op.dims):
        return int(op.macs * _out_fraction(ops, i, slices, frac))
    if op.param is not None:
        sl = slices.get(op.param)
        if sl is None:
            return op.macs
        shape = used[op.param]
        if op.view is None:
            return op.macs // numel(shape) * _kept_numel(shape, sl)
        return op.macs // numel(op.view[0]) * _kept_view(shape, sl,
                                                          op.view)
    n = 1
    for size, pos in op.dims:
        n *= size if pos is None or keep is None else int(
            kept(pos, keep).sum())
    return n if op.dims else op.macs


def _within(name: str, modules: Sequence[str]) -> bool:
    return any(name == m or name.startswith(m + '.') for m in modules)


def count_flops_params(ops: List[CountedOp], used: Dict[str, tuple],
                       slices: Optional[Dict[str, tuple]] = None,
                       keep: Optional[Tensor] = None,
                       batch: int = 1,
                       without: Sequence[str] = ()) -> Tuple[int, int]:
    """``(flops, params)`` per sample.

    Args:
        ops: the recorded ops (positions resolved).
        used: ``{parameter name: shape}`` of the parameters read.
        slices: ``parameter_slices`` of the subnet (None: nothing pruned).
        keep: one bool per prunable unit (None: all kept).
        batch: the trace batch size the ops were counted at.
        without: modules left out of the count with everything inside
            them (identity-shortcut blocks a search removes).
    """
    slices = slices or {}
    frac: Dict[int, Fraction] = {}
    totals = [0, 0]  # once per forward, per sample * batch
    for i, op in enumerate(ops):
        if without and _within(op.scope, without):
            continue
        totals[op.per_sample] += _op_macs(ops, i, used, slices, keep, frac)
    flops = totals[0] + totals[1] // batch
    params = sum(_kept_numel(shape, slices.get(name))
                 for name, shape in used.items()
                 if not (without and _within(name, without)))
    return flops, params


def count_graph(graph) -> Tuple[int, int]:
    """``(flops, params)`` per sample of a traced :class:`ModelGraph`,
    nothing pruned: the exact count of the model it was traced from."""
    return count_flops_params(graph.ops, graph.used, batch=graph.batch)
