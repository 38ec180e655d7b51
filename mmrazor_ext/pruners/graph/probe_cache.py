"""Reuse of channel probes across ops that move channels the same way.

Probing an op (``channel_mapper.map_node``) costs a few vector-Jacobian
products over the op's whole output; a ViT or a ResNet-152 repeats the same
ops block after block. An op's channel movement depends on its kind, its
shapes, the dims its inputs carry channels on and its saved non-tensor
arguments and integer tensors (permutation dims, slice bounds, indices);
saved floating tensors (activations) only decide where gradients vanish,
which the probe tolerates. So the first op of each such signature is probed
with stand-in channel ids (``1..n``) against a recorder in place of the
union; every op of that signature then replays the recorded result with its
own ids: the output ids and the joins / blocks it makes, or the same
failure (``UnknownOp``: channel mixing is a matter of structure too). A
probe that asks the union for anything but joins and blocks is run
directly.
"""
from typing import Dict, List, Optional

import torch
from torch import Tensor

from ...compat.private_apis import input_metadata, saved_values
from ..handlers.layer_record import Traced
from .channel_mapper import UnknownOp, map_node


class _Uncacheable(Exception):
    pass


class _Recorder:
    """Stands in for ``ElementUnion`` during a first probe."""
    _OPS = ('union_pairs', 'union_all', 'block')

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        if name in self._OPS:
            return lambda *args: self.calls.append((name, args))
        raise _Uncacheable(name)


def _freeze(v):
    if isinstance(v, Tensor):
        if v.is_floating_point() or v.is_complex():
            return ('f', tuple(v.shape), v.dtype)
        return ('i', tuple(v.shape), v.dtype, v.cpu().numpy().tobytes())
    if isinstance(v, (list, tuple)):
        return tuple(_freeze(x) for x in v)
    try:
        hash(v)
    except TypeError:
        return repr(v)
    return v


def signature(node, inputs: List[Optional[Traced]], shapes, out_shape):
    """What decides how ``node`` moves channels (see the module doc)."""
    saved = tuple((a, _freeze(v)) for a, v in saved_values(node))
    ins = tuple(None if v is None else (v.dim, v.ids.numel())
                for v in inputs)
    return (node.name(), tuple(shapes), tuple(out_shape), ins, saved)


def keeps_channels(probe, dim: int, shape) -> bool:
    """Whether a one-input op whose output has its input's shape leaves
    every channel (along ``dim``) where it was: with output gradient
    ``G = channel index`` its input gradient is the gradient for ``G = 1``
    times the channel index (an elementwise op: activations, clones,
    spatial flips). Two vector-Jacobian products and one comparison, in
    place of the general probe's ratio analysis; anything else is left to
    that probe."""
    meta = input_metadata(probe)[0]
    if not meta.dtype.is_floating_point or shape[dim] < 2:
        return False
    view = [1] * len(shape)
    view[dim] = shape[dim]
    idx = torch.arange(1, shape[dim] + 1, dtype=meta.dtype,
                       device=meta.device).view(view).expand(*shape)
    with torch.no_grad():
        g1 = probe(torch.ones(shape, dtype=meta.dtype, device=meta.device))
        g2 = probe(idx.contiguous())
    g1 = g1[0] if isinstance(g1, (tuple, list)) else g1
    g2 = g2[0] if isinstance(g2, (tuple, list)) else g2
    if not isinstance(g1, Tensor) or not isinstance(g2, Tensor) or \
            tuple(g1.shape) != tuple(shape) or not bool(g1.any()):
        return False
    return bool(torch.allclose(g2, g1 * idx.to(g1.device), rtol=1e-5,
                               atol=0.0))


class ProbeCache:
    """``map_node`` with results shared between ops of one signature.

    Attributes:
        hits / misses: probes replayed / run, for profiling.
    """

    def __init__(self):
        self._cache: Dict[tuple, tuple] = {}
        self.hits = self.misses = 0

    def map_node(self, probe, node, inputs, shapes, out_shape, union):
        try:
            key = signature(node, inputs, shapes, out_shape)
            hash(key)
        except (RuntimeError, TypeError):  # pragma: no cover
            return map_node(probe, inputs, shapes, out_shape, union)
        hit = self._cache.get(key)
        if hit is None and len(inputs) == 1 and inputs[0] is not None and \
                tuple(shapes[0] or ()) == tuple(out_shape):
            if keeps_channels(probe, inputs[0].dim, out_shape):
                hit = self._cache[key] = (None, [])  # the input's ids
                self.misses += 1
        if hit is None:
            stand_in, offset = [], 1
            for v in inputs:
                if v is None:
                    stand_in.append(None)
                    continue
                n = v.ids.numel()
                stand_in.append(Traced(v.dim, torch.arange(
                    offset, offset + n).view(v.ids.shape)))
                offset += n
            rec = _Recorder()
            self.misses += 1
            try:
                out = map_node(probe, stand_in, shapes, out_shape, rec)
            except _Uncacheable:
                return map_node(probe, inputs, shapes, out_shape, union)
            except (UnknownOp, RuntimeError, TypeError) as e:
                self._cache[key] = (e, None)
                raise
            hit = self._cache[key] = (out, rec.calls)
        else:
            self.hits += 1
        out, calls = hit
        if calls is None:
            raise type(out)(*out.args)
        if out is None:  # channels stay where they are
            return Traced(inputs[0].dim, inputs[0].ids)
        table = torch.cat([torch.zeros(1, dtype=torch.long)] + [
            v.ids.reshape(-1) for v in inputs if v is not None])

        def real(t):  # stand-in ids (> 0) -> the inputs' ids
            if not isinstance(t, Tensor):
                return t
            return torch.where(t > 0, table[t.clamp(min=0)], t)

        for name, args in calls:
            getattr(union, name)(*(real(a) for a in args))
        return Traced(out.dim, real(out.ids))
