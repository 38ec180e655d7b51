"""Parameters that follow channels outside any layer: layer scales,
position embeddings, class tokens.

An op that combines traced channels with a tensor spanning the channel dim
(``x * layer_scale``, ``x + pos_embedding``, ``cat([cls_token, x])``) used
to block them: export could not slice that tensor. When the tensor is a
parameter, reached from the op through single-input ops (``view``,
``expand``, ``unsqueeze``...), and its entries along one of its dims meet
the channels one to one and in order (checked by the same
vector-Jacobian probe as any op, pushed back to the parameter), it is
recorded (``handlers/param.py`` turns it into a ``'param'`` record:
export slices it along that dim, and the masked model needs nothing, the
channels it scales or shifts being masked by their consumers).
"""
from contextlib import contextmanager
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor, nn

from ...compat.private_apis import input_metadata
from .channel_positions import channel_positions

MAX_DEPTH = 6  # single-input ops walked from the op back to the parameter


def param_behind(node, i: int, g1: Tensor, g2: Tensor
                 ) -> Optional[Tuple[nn.Parameter, Tensor, Tensor]]:
    """The parameter feeding input ``i`` of ``node`` through single-input
    ops, with the two probe gradients pushed back to it; None if none."""
    edges = getattr(node, 'next_functions', None)
    if edges is None or i >= len(edges) or edges[i][0] is None:
        return None
    fn, nr = edges[i]
    # The parameter's gradient sums the probe over the positions it is
    # broadcast to, weighted by the activation it multiplies; sums of
    # activations of both signs lose the index ratio to cancellation. So
    # each position counts once, with its own ratio (the index + 1 where
    # the op is elementwise in the parameter).
    nz = g1 != 0
    g2 = torch.where(nz, g2 / torch.where(nz, g1, torch.ones_like(g1)),
                     torch.zeros_like(g2))
    g1 = nz.to(g1.dtype)
    for _ in range(MAX_DEPTH):
        var = getattr(fn, 'variable', None)
        shape = var.shape if var is not None else \
            input_metadata(fn)[nr].shape
        try:  # autograd sums broadcast gradients down to the input's shape
            g1, g2 = g1.sum_to_size(shape), g2.sum_to_size(shape)
        except RuntimeError:
            return None
        if var is not None:
            return (var, g1, g2) if isinstance(var, nn.Parameter) else None
        nxt = [(f, n) for f, n in fn.next_functions if f is not None]
        if len(nxt) != 1 or len(input_metadata(fn)) != 1 or nr != 0:
            return None
        with torch.no_grad():
            a, b = fn(g1), fn(g2)
        a = a[0] if isinstance(a, (tuple, list)) else a
        b = b[0] if isinstance(b, (tuple, list)) else b
        if a is None or b is None:
            return None
        (fn, nr), g1, g2 = nxt[0], a, b
    return None


def channel_dim(param: Tensor, g1: Tensor, g2: Tensor,
                out_len: int) -> Optional[int]:
    """The dim of ``param`` whose entries reach output channel positions
    ``0..out_len-1`` one to one and in order; None if no dim does."""
    for k in range(param.dim()):
        if param.shape[k] != out_len:
            continue
        pos = channel_positions(k, out_len, g1, g2, out_len)
        if pos is not None and pos.shape[1] == 1 and bool(
                (pos.view(-1) == torch.arange(out_len)).all()):
            return k
    return None


@contextmanager
def buffers_in_probe(model: nn.Module, known: Dict[nn.Module, object]):
    """Let the floating buffers of the modules traced op by op require
    grad during the trace, so an op combining channels with one (a fixed
    position embedding) shows it to the probe, which blocks the channels
    (a buffer is not sliced on export) instead of missing it. ``known``:
    each module's layer handler, None for those traced op by op."""
    changed = []
    for m, handler in known.items():
        if handler is not None:
            continue
        for b in m.buffers(recurse=False):
            if b.is_floating_point() and not b.requires_grad:
                b.requires_grad_(True)
                changed.append(b)
    try:
        yield
    finally:
        for b in changed:
            b.requires_grad_(False)
