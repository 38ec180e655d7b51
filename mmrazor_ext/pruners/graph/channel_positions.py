"""Which output positions each input channel of an op feeds, read from
two vector-Jacobian products (see ``channel_mapper``): shared by the
mapper of unknown ops and by the search for parameters that follow
channels (``param_channels``)."""
from typing import Optional

import torch
from torch import Tensor


def _ratios(a: Tensor, b: Tensor, scale: Tensor):
    """``(valid, rounded ratio b / a)`` of rows of gradients in double, or
    None when a valid ratio is not an integer."""
    valid = a.abs() > 1e-6 * scale
    r = torch.where(valid, b / torch.where(valid, a, torch.ones_like(a)),
                    torch.zeros_like(a))
    rr = r.round()
    if ((r - rr).abs()[valid] > 1e-3 * rr.abs()[valid].clamp(min=30)).any():
        return None
    return valid, rr


def _bounds(valid, rr, out_len):
    big = float(out_len + 10)
    lo = torch.where(valid, rr, torch.full_like(rr, big)).min(1).values
    hi = torch.where(valid, rr, torch.full_like(rr, -big)).max(1).values
    return valid.any(1), lo.long() - 1, hi.long() - 1


def _few_rows_fail(dim, size, g1, g2, out_len, scale) -> bool:
    """Whether a few channels (spread over all of them, in order) already
    break what :func:`channel_positions` requires of every channel:
    integer ratios, positions inside the output, first positions strictly
    increasing, equal runs when a channel feeds several positions. A
    necessary check on a sliver of the gradients, so failing ops (a view
    splitting the channels into heads, probed along every dim) are
    rejected without reading all of them."""
    idx = torch.linspace(0, size - 1, 8).round().long().unique()
    rows = idx.to(g1.device)
    a = g1.index_select(dim, rows).movedim(dim, 0).reshape(len(idx), -1)
    b = g2.index_select(dim, rows).movedim(dim, 0).reshape(len(idx), -1)
    got = _ratios(a.double(), b.double(), scale)
    if got is None:
        return True
    has, lo, hi = _bounds(*got, out_len)
    lo, hi = lo[has], hi[has]
    if (lo < 0).any() or (hi >= out_len).any() or \
            not bool((lo[1:] > lo[:-1]).all()):
        return True
    span = hi - lo
    return bool((span != 0).any()) and (
        not bool(has.all()) or not bool((span == span[0]).all()))


def _stays(dim, size, g1, g2) -> bool:
    """Whether channel ``c`` feeds output position ``c`` and nothing else:
    ``g2 == g1 * (c + 1)`` along ``dim`` everywhere, some ``g1`` nonzero.
    One product and one comparison in the gradients' own dtype; when it
    holds, the ratio analysis below gives the same identity (it is
    stricter: every entry, tiny ones included, relative 1e-5)."""
    if not g1.dtype.is_floating_point or g2.shape != g1.shape:
        return False
    view = [1] * g1.dim()
    view[dim] = size
    idx = torch.arange(1, size + 1, dtype=g1.dtype,
                       device=g1.device).view(view)
    return bool(g1.any()) and bool(torch.allclose(g2, g1 * idx, rtol=1e-5,
                                                  atol=0.0))


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
    if out_len == size and _stays(dim, size, g1, g2):
        return torch.arange(size).view(-1, 1)
    scale = g1.abs().max().double().clamp(min=1e-30)
    if size > 16 and g1.numel() > 64 * size and _few_rows_fail(
            dim, size, g1, g2, out_len, scale):
        return None
    a = g1.movedim(dim, 0).reshape(size, -1).double()
    b = g2.movedim(dim, 0).reshape(size, -1).double()
    got = _ratios(a, b, scale)
    if got is None:
        return None
    has, lo, hi = _bounds(*got, out_len)
    if not has.any():
        return None
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
