"""How channels move through an op the tracer has no module for.

The op is never recognised by its autograd class name. Instead its
vector-Jacobian product is probed: with output gradient ``G1 = 1`` and
``G2 = index + 1`` along one output dim ``d``, the ratio ``G2-grad / G1-grad``
at an input element is the (1-based) index along ``d`` of the outputs that
element reaches, provided they all share that index. So for every input
channel we learn which output position(s) along ``d`` it feeds:

- one position per channel, order kept: elementwise ops, pooling,
  concatenation (with offsets), permutes moving the channel dim;
- a run of positions per channel, runs in channel order: flatten;
- anything else (channel mixing, shuffles, slices, padding, reductions over
  channels): not understood, the caller blocks the channels involved.
"""
from typing import List, Optional, Sequence

import torch
from torch import Tensor

from ...compat.private_apis import input_metadata
from ..handlers.layer_record import Traced
from .channel_positions import channel_positions
from .param_channels import channel_dim, param_behind
from .union_find import NONE, ElementUnion


class UnknownOp(Exception):
    """The op moves channels in a way export cannot reproduce."""


def _call(node, grads: Sequence[Tensor]) -> List[Optional[Tensor]]:
    with torch.no_grad():
        out = node(*grads)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _along(shape, dim: int, dtype) -> Tensor:
    view = [1] * len(shape)
    view[dim] = shape[dim]
    idx = torch.arange(1, shape[dim] + 1, dtype=dtype).view(view)
    return idx.expand(*shape).contiguous()


def map_node(node, inputs: List[Optional[Traced]], in_shapes: List,
             out_shape, union: ElementUnion) -> Traced:
    """Channel identity of ``node``'s single output.

    Args:
        node: autograd node with one output.
        inputs: traced identity of each input (``next_functions`` order),
            None where the input carries no traced channels.
        in_shapes: shape of each input, None where it has no gradient.
        out_shape: shape of the output.
        union: element sets; elementwise ops join the channels they combine.

    Raises:
        UnknownOp: the channel movement is not one export can reproduce.
    """
    meta = input_metadata(node)[0]
    dtype = meta.dtype
    ones = torch.ones(out_shape, dtype=dtype, device=meta.device)
    g1 = _call(node, [ones])
    tracked = [i for i, v in enumerate(inputs)
               if v is not None and i < len(g1) and g1[i] is not None]
    if not tracked:
        raise UnknownOp('traced channels do not reach the op inputs')
    first = inputs[tracked[0]]
    dims = [d for d in range(len(out_shape)) if out_shape[d] > 1]
    # Most ops keep the channel dim where it is: try that first.
    if first.dim in dims:
        dims.remove(first.dim)
        dims.insert(0, first.dim)
    for d in dims:
        g2 = _call(node, [_along(out_shape, d, dtype).to(meta.device)])
        result = _try_dim(d, inputs, tracked, in_shapes, g1, g2, out_shape)
        if result is not None:
            ids, joins, fixed = result
            params = _fixed_params(node, fixed, g1, g2, out_shape[d])
            for p, k in params or ():
                union.add_param_channel(p, k, ids)
            for a, b in joins:
                union.union_pairs(a, b)
            if params is None:
                union.block(ids, f'{node.name()} combines the channels with '
                            'a constant of the same size')
            return Traced(d, ids)
    raise UnknownOp('channels are mixed, reordered, sliced or padded')


def _try_dim(d, inputs, tracked, in_shapes, g1, g2, out_shape):
    out_len = out_shape[d]
    ids = torch.full((out_len, ), NONE, dtype=torch.long)
    covered = torch.zeros(out_len, dtype=torch.bool)
    joins = []
    for i in tracked:
        v = inputs[i]
        pos = channel_positions(v.dim, v.ids.numel(), g1[i], g2[i], out_len)
        if pos is None:
            return None
        src = inputs[i].ids.view(-1, 1).expand_as(pos).reshape(-1)
        pos = pos.reshape(-1)
        again = covered[pos]
        if again.any():
            joins.append((ids[pos[again]], src[again]))
        fresh = ~again
        ids[pos[fresh]] = src[fresh]
        covered[pos] = True
    untracked_feed = any(
        i not in tracked and i < len(g1) and g1[i] is not None
        for i in range(len(in_shapes)))
    if not bool(covered.all()) and not untracked_feed:
        return None  # positions from nowhere: padding, constants
    # An untracked input spanning the channel dim (a parameter, a tensor
    # built from parameters) cannot be sliced: the channels are blocked by
    # the caller.
    nd, fixed = len(out_shape), []
    for i, shape in enumerate(in_shapes):
        if i in tracked or shape is None or i >= len(g1) or g1[i] is None:
            continue
        k = d - (nd - len(shape))
        if k >= 0 and shape[k] == out_len and out_len > 1:
            fixed.append(i)
    return ids, joins, fixed


def _fixed_params(node, fixed, g1, g2, out_len):
    """``[(parameter, dim)]`` behind the untracked inputs ``fixed`` that
    span the channel dim, or None if one of them is not a parameter
    following the channels (see ``param_channels``)."""
    found = []
    for i in fixed:
        hit = param_behind(node, i, g1[i], g2[i])
        k = channel_dim(*hit, out_len) if hit is not None else None
        if k is None:
            return None
        found.append((hit[0], k))
    return found
