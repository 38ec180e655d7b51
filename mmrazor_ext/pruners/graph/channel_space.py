"""Channel spaces: groups of layers whose output channels share one mask.

Built from a trace: channel elements joined by residual adds, depthwise /
grouped convs, broadcasting multiplies... form units (one keep / remove
decision each); producers whose units meet form one space.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch

from ..handlers import LayerRecord, handler_of
from ..handlers.param import add_param_records
from .graph_tracer import TraceResult


@dataclass
class ChannelSpace:
    """One channel space, as plain data.

    Attributes:
        name: name of its first producer (in forward order); subnet key.
        num_channels: number of units, the things a ratio counts and a
            subnet lists (one channel each, or one group of channels where
            a grouped conv ties its groups; see ``channels_per_unit``).
        producers: conv / linear layers whose outputs are these channels.
        consumers: conv / linear layers reading these channels.
        norms: norm layers applied to these channels.
        passthrough: depthwise / grouped convs whose outputs follow their
            inputs channel for channel (pruned on both sides).
        params: parameters outside any layer that follow these channels
            (layer scales, position embeddings), sliced on export.
        feature_layer: the layer whose output carries these channels after
            normalisation (norm after the first producer, else the producer).
        prunable: False when an op or layer forbids pruning it.
        reason: why it is not prunable.
        channels_per_unit: channels per unit in the first producer.
        offset: index of its first unit among all prunable units.
    """
    name: str
    num_channels: int
    producers: List[str] = field(default_factory=list)
    consumers: List[str] = field(default_factory=list)
    norms: List[str] = field(default_factory=list)
    passthrough: List[str] = field(default_factory=list)
    params: List[str] = field(default_factory=list)
    feature_layer: Optional[str] = None
    prunable: bool = True
    reason: str = ''
    channels_per_unit: int = 1
    offset: int = 0


def build_channel_spaces(res: TraceResult, model=None
                         ) -> Tuple[List[ChannelSpace], Dict[str,
                                                             LayerRecord]]:
    """Group a trace into spaces; fill ``in_pos`` / ``out_pos`` of layers.
    With ``model``, parameters that follow channels outside any layer
    become ``'param'`` records (without it, their channels are blocked)."""
    union, layers = res.union, res.layers
    if model is not None:
        add_param_records(model, union.param_channels, layers, union)
    else:
        for _p, _d, ids in union.param_channels:
            union.block(ids, 'a parameter follows the channels')
    union.param_channels = []
    roots = union.roots()
    producers = [r for r in layers.values() if r.produces]
    merge: List[int] = []  # union-find over space indices

    def top(i):
        while merge[i] != i:
            i = merge[i]
        return i

    space_of_root: Dict[int, int] = {}
    first_of_space: List[LayerRecord] = []
    for rec in producers:
        rs = roots[rec.out_ids].unique().tolist()
        hits = sorted({top(space_of_root[r]) for r in rs
                       if r in space_of_root})
        if hits:
            idx = hits[0]
            for h in hits[1:]:
                merge[h] = idx
        else:
            idx = len(merge)
            merge.append(idx)
            first_of_space.append(rec)
        for r in rs:
            space_of_root[r] = idx
    # units in order of first appearance, producer by producer
    units: Dict[int, Dict[int, None]] = {}  # dicts: ordered sets
    for rec in producers:
        rs = roots[rec.out_ids].tolist()
        if rs:  # a producer's roots all went to one space above
            units.setdefault(top(space_of_root[rs[0]]), {}).update(
                dict.fromkeys(rs))
    n_elem = roots.numel()
    root2space = torch.full((n_elem, ), -1, dtype=torch.long)
    root2unit = torch.full((n_elem, ), -1, dtype=torch.long)
    spaces: List[ChannelSpace] = []
    offset = 0
    for idx in sorted(units, key=lambda i: i):
        first = first_of_space[idx]
        rs = list(units[idx])
        blocked = [b for b in map(union.blocked.get, rs) if b]
        sp = ChannelSpace(name=first.name, num_channels=len(rs),
                          prunable=not blocked and len(rs) > 1,
                          reason=blocked[0] if blocked else (
                              '' if len(rs) > 1 else 'single channel'),
                          channels_per_unit=max(
                              1, first.out_channels // max(1, len(
                                  set(roots[first.out_ids].tolist())))))
        rt = torch.tensor(rs)
        root2space[rt] = len(spaces)
        if sp.prunable:
            sp.offset = offset
            root2unit[rt] = torch.arange(offset, offset + len(rs))
            offset += len(rs)
        spaces.append(sp)

    # every layer's ids looked up at once: (unit, space) per channel
    sides = [(rec, side) for rec in layers.values()
             for side in ('in', 'out')
             if getattr(rec, side + '_ids') is not None]
    flat = torch.cat([getattr(r, s + '_ids') for r, s in sides]) \
        if sides else torch.zeros(0, dtype=torch.long)
    ok = flat >= 0
    root = roots[flat.clamp(min=0)]
    units = torch.where(ok, root2unit[root], -1).split(
        [getattr(r, s + '_ids').numel() for r, s in sides])
    owner = torch.where(ok, root2space[root], -1).split(
        [getattr(r, s + '_ids').numel() for r, s in sides])
    for (rec, side), pos in zip(sides, units):
        setattr(rec, side + '_pos', pos)
    touch = _touched(sides, owner, len(spaces))
    for rec in layers.values():
        handler = handler_of(rec)
        role = handler.space_role(rec)
        for s in touch.get((rec.name, 'out'), ()) if role else ():
            getattr(spaces[s], role).append(rec.name)
        if handler.consumes(rec):
            for s in touch.get((rec.name, 'in'), ()):
                spaces[s].consumers.append(rec.name)
    norm_after = {}  # input key -> the first feature norm reading it
    for rec in layers.values():
        if handler_of(rec).feature_norm:
            norm_after.setdefault(rec.in_key, rec.name)
    for sp in spaces:
        first = layers[sp.producers[0]]
        sp.feature_layer = norm_after.get(first.out_key, first.name)
    return spaces, layers


def _touched(sides, owner, num_spaces: int) -> Dict[tuple, List[int]]:
    """``{(layer, side): sorted spaces}`` of each side's channels, from
    the space of every channel (``owner``, -1: none) in one ``unique``."""
    sizes = [o.numel() for o in owner]
    side = torch.repeat_interleave(torch.arange(len(sizes)),
                                   torch.tensor(sizes, dtype=torch.long))
    flat = torch.cat(owner) if owner else torch.zeros(0, dtype=torch.long)
    ok = flat >= 0
    pairs = (side[ok] * num_spaces + flat[ok]).unique().tolist()
    touch = {(rec.name, s): [] for rec, s in sides}
    for p in pairs:  # ascending: sides in order, spaces sorted
        rec, s = sides[p // num_spaces]
        touch[(rec.name, s)].append(p % num_spaces)
    return touch


def renumber_units(spaces: List[ChannelSpace], layers: Dict[str, LayerRecord],
                   ops) -> int:
    """Number the units of the prunable ``spaces`` ``0..n-1`` again after
    some were made unprunable (their layers' and counted ops' positions
    follow; the dropped units become -1); returns ``n``."""
    old = [(sp.offset, sp.num_channels, sp.prunable) for sp in spaces]
    end = max((o + n for o, n, _ in old), default=0)
    table = torch.full((end + 1, ), -1, dtype=torch.long)
    offset = 0
    for sp, (o, n, _) in zip(spaces, old):
        if sp.prunable:
            table[o:o + n] = torch.arange(offset, offset + n)
            sp.offset = offset
            offset += n

    def move(pos):
        return torch.where(pos >= 0, table[pos.clamp(min=0)], pos)

    sides = [(rec, side) for rec in layers.values()
             for side in ('in_pos', 'out_pos')
             if getattr(rec, side) is not None]
    if sides:  # all layers at once
        moved = move(torch.cat([getattr(r, s) for r, s in sides])).split(
            [getattr(r, s).numel() for r, s in sides])
        for (rec, side), pos in zip(sides, moved):
            setattr(rec, side, pos)
    for op in ops:
        for entry in op.dims:
            if entry[1] is not None:
                entry[1] = move(entry[1])
    return offset
