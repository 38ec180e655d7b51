"""What the tracer learns about each recognised layer, and the channel
identity of a traced tensor."""
from dataclasses import dataclass
from typing import Dict, NamedTuple, Optional, Tuple

import torch
from torch import Tensor


class Traced(NamedTuple):
    """Channel identity of one tensor: element ids along dim ``dim``."""
    dim: int
    ids: Tensor


@dataclass
class LayerRecord:
    """One recognised layer, as seen in the traced forward pass.

    ``in_ids`` / ``out_ids`` give, for each input / output channel, the
    channel element it carries (-1 for none). After grouping they are
    replaced by ``in_pos`` / ``out_pos``: the global unit index of each
    channel in the prunable spaces, -1 where the channel is never pruned.
    ``kind`` names the layer handler that knows the layer
    (``pruners/handlers/``).
    """
    name: str
    kind: str  # a registered handler's kind: 'conv', 'linear', 'norm', ...
    in_channels: int = 0
    out_channels: int = 0
    groups: int = 1
    has_bias: bool = False
    tied: bool = False  # outputs follow the inputs (depthwise, attention)
    produces: bool = False  # outputs are new channel elements
    out_ndim: int = 4
    # norms: the channel dim of the input / output and how the norm treats
    # channels ('' per channel, see ``group_norm``); parameter records (a
    # parameter following channels, e.g. a layer scale): the dim sliced
    chan_dim: int = 1
    norm_mode: str = ''
    param_dim: int = 0
    in_key: object = None
    out_key: object = None
    in_ids: Optional[Tensor] = None
    out_ids: Optional[Tensor] = None
    in_pos: Optional[Tensor] = None
    out_pos: Optional[Tensor] = None


def kept(pos: Tensor, keep: Tensor) -> Tensor:
    """Bool keep-mask of positions ``pos`` (unit index or -1 = always)."""
    if not keep.numel():
        return torch.ones(pos.numel(), dtype=torch.bool)
    return keep[pos.clamp(min=0)] | (pos < 0)


def pruned_sides(rec: LayerRecord, keep: Tensor
                 ) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """``(kept outputs, kept inputs)`` of a layer as bool masks, each None
    where that side of the layer loses no channel."""
    sides = []
    for pos in (rec.out_pos, rec.in_pos):
        k = kept(pos, keep) if pos is not None else None
        sides.append(None if k is None or bool(k.all()) else k)
    return tuple(sides)


def kept_sides(layers: Dict[str, LayerRecord], keep: Tensor
               ) -> Dict[str, Tuple[Optional[Tensor], Optional[Tensor]]]:
    """``(kept(out_pos), kept(in_pos))`` of every layer (None where a
    side has no positions), read from ``keep`` in one go."""
    pos = [p for rec in layers.values() for p in (rec.out_pos, rec.in_pos)
           if p is not None]
    parts = iter(kept(torch.cat(pos), keep).split(
        [p.numel() for p in pos]) if pos else ())
    return {name: tuple(None if p is None else next(parts)
                        for p in (rec.out_pos, rec.in_pos))
            for name, rec in layers.items()}


def all_pruned_sides(layers: Dict[str, LayerRecord], keep: Tensor
                     ) -> Dict[str, Tuple[Optional[Tensor],
                                          Optional[Tensor]]]:
    """:func:`pruned_sides` of every layer, read from ``keep`` in one
    go: only the layers losing a channel, on some side."""
    sides = kept_sides(layers, keep)
    flat = [k for ks in sides.values() for k in ks if k is not None]
    if not flat:
        return {}
    seg = torch.repeat_interleave(torch.arange(len(flat)), torch.tensor(
        [k.numel() for k in flat]))
    lost = iter(torch.zeros(len(flat), dtype=torch.long).index_add_(
        0, seg, (~torch.cat(flat)).long()).tolist())
    out = {}
    for name, ks in sides.items():
        ko, ki = (None if k is None or not next(lost) else k for k in ks)
        if ko is not None or ki is not None:
            out[name] = (ko, ki)
    return out


def prunable(pos: Optional[Tensor]) -> bool:
    """Whether some channel at positions ``pos`` can be pruned."""
    return pos is not None and bool((pos >= 0).any())
