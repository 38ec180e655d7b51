"""Which output positions each input channel of an op feeds, read from
two vector-Jacobian products (see ``channel_mapper``): shared by the
mapper of unknown ops and by the search for parameters that follow
channels (``param_channels``)."""
from typing import Optional

import torch
from torch import Tensor


def channel_positions(dim: int, size: int, g1: Tensor, g2: Tensor,
                      out_len: int) -> Optional[Tensor]:
    """Output positions (along the probed output dim, ``out_len`` long)
    fed by each of the ``size`` input channels along ``dim`` of one input,
    from that input's gradients ``g1`` (output gradient 1) and ``g2``
    (output gradient index + 1): ``(size, 1)`` for one position per
    channel, ``(size, run)`` for adjacent runs (flatten); None when the
    channels do not move that way."""
    if g1.dim() <= dim or g1.shape[dim] != size:
        return None
    a = g1.movedim(dim, 0).reshape(size, -1).double()
    b = g2.movedim(dim, 0).reshape(size, -1).double()
    valid = a.abs() > 1e-6 * a.abs().max().clamp(min=1e-30)
    r = torch.where(valid, b / torch.where(valid, a, torch.ones_like(a)),
                    torch.zeros_like(a))
    rr = r.round()
    if ((r - rr).abs()[valid] > 1e-3 * rr.abs()[valid].clamp(min=30)).any():
        return None
    big = float(out_len + 10)
    lo = torch.where(valid, rr, torch.full_like(rr, big)).min(1).values
    hi = torch.where(valid, rr, torch.full_like(rr, -big)).max(1).values
    has = valid.any(1)
    if not has.any():
        return None
    lo, hi = lo.long() - 1, hi.long() - 1
    if (lo[has] < 0).any() or (hi[has] >= out_len).any():
        return None
    if bool((lo[has] == hi[has]).all()):
        pos = torch.where(has, lo, torch.full_like(lo, -1))
        if not has.all():
            # Channels with zero gradient (e.g. dead after a ReLU): accept
            # only a plain identity, which is what every other channel shows.
            ar = torch.arange(size)
            if out_len != size or not bool((pos[has] == ar[has]).all()):
                return None
            pos = ar
        if size > 1 and not bool((pos[1:] > pos[:-1]).all()):
            return None
        return pos.view(-1, 1)
    # A run of positions per channel, runs adjacent and in order (flatten).
    if not has.all():
        return None
    span = hi - lo + 1
    if not bool((span == span[0]).all()) or not bool(
            (lo[1:] == hi[:-1] + 1).all()):
        return None
    return lo.view(-1, 1) + torch.arange(int(span[0])).view(1, -1)
