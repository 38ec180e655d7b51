"""FLOPs (multiply-accumulates) and parameters from the traced layers.

Counted per input sample at the trace input size, over the recognised layers:
conv / linear MACs and weights, norm elements and affine parameters. The
same formula serves the masked model (channels counted through the masks)
and an exported one (traced afresh), so the two agree exactly.
"""
from typing import Dict, Optional, Tuple

from torch import Tensor

from .layer_record import LayerRecord
from .masks import kept


def _count(pos, n, keep):
    if keep is None or pos is None:
        return n
    return int(kept(pos, keep).sum())


def count_flops_params(layers: Dict[str, LayerRecord],
                       keep: Optional[Tensor] = None) -> Tuple[int, int]:
    """``(flops, params)`` of the layers with ``keep`` applied (None: all)."""
    flops = params = 0
    for rec in layers.values():
        per = sum(rec.positions_per_channel)
        co = _count(rec.out_pos, rec.out_channels, keep)
        ci = _count(rec.in_pos, rec.in_channels, keep)
        if rec.kind == 'conv':
            per_in = rec.in_channels // rec.groups if rec.tied or \
                rec.groups > 1 else ci
            w = co * per_in * rec.kernel
            flops += per * w
            params += w + (co if rec.has_bias else 0)
        elif rec.kind == 'linear':
            flops += per * co * ci
            params += co * ci + (co if rec.has_bias else 0)
        else:
            flops += per * co
            params += 2 * co if rec.affine else 0
    return flops, params
