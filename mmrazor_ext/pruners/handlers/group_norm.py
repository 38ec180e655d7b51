"""LayerNorm / GroupNorm over channels: prunable, with masked statistics.

A norm whose statistics span the channels (LayerNorm over the channel dim,
torchvision's / mmcls's ``LayerNorm2d``, GroupNorm) gives different outputs
for the kept channels once others are removed: the exported norm computes
its mean and variance over the kept channels only. So the masked model does
the same: a forward hook on the norm recomputes its output from its input
with the statistics taken over the kept channels (``module.forward`` is not
touched). Export slices the affine parameters and updates
``normalized_shape`` / ``num_channels``.

How a norm treats channels (``LayerRecord.norm_mode``):

- ``'ln'``: ``nn.LayerNorm`` with its stock forward; the channel dim is one
  of the normalised (last) dims, the affine parameters have the normalised
  shape.
- ``'channel'``: a LayerNorm subclass with its own forward (``LayerNorm2d``)
  that normalises over the channel dim only, affine along it. Recognised by
  what it computes: its output on a random input equals that formula.
- ``'group'``: ``nn.GroupNorm`` with several channels per group; channel
  ``j`` of every group forms one unit (``group_units``), so every group
  keeps as many channels and ``num_groups`` stays.
- ``'group1'``: ``nn.GroupNorm`` with one channel per group: channels are
  independent, export sets ``num_groups`` to the channels kept.
- ``''``: statistics per channel (or over dims other than the channel dim):
  an ordinary norm.
"""
from typing import Optional

import torch
from torch import Tensor, nn

from ...registry import LAYER_HANDLERS
from ...utils.tensor_compare import relative_error
from .group_units import tie_group_positions
from .layer_handler import new_param, take
from .layer_record import LayerRecord
from .norm import NormHandler


def _reduce_dims(module, mode: str, cd: int, ndim: int):
    if mode == 'ln':
        return tuple(range(ndim - len(module.normalized_shape), ndim))
    return (cd, )


def _affine_view(p: Tensor, cd: int, ndim: int) -> Tensor:
    shape = [1] * ndim
    shape[cd] = p.numel()
    return p.view(shape)


def masked_norm(module: nn.Module, mode: str, cd: int, x: Tensor,
                m: Tensor) -> Tensor:
    """The norm's output on ``x`` with statistics over the channels (dim
    ``cd``) where ``m`` (shaped to broadcast along ``cd``) is 1; 0
    elsewhere."""
    ndim, eps = x.dim(), module.eps
    m = m.to(x.dtype)
    w, b = getattr(module, 'weight', None), getattr(module, 'bias', None)
    if mode == 'group':
        g = module.num_groups
        shape = x.shape
        xs = x.reshape(shape[0], g, -1, *shape[2:])
        ms = m.reshape(1, g, -1, *([1] * (ndim - 2)))
        dims = tuple(range(2, xs.dim()))
        y = _normalise(xs, ms, dims, eps).reshape(shape)
        if w is not None:
            y = y * _affine_view(w, 1, ndim) + _affine_view(b, 1, ndim)
        return y * m
    dims = _reduce_dims(module, mode, cd, ndim)
    y = _normalise(x, m, dims, eps)
    if w is not None:
        if mode == 'ln':
            y = y * w + b
        else:
            y = y * _affine_view(w, cd, ndim) + _affine_view(b, cd, ndim)
    return y * m


def _normalise(x, m, dims, eps):
    cnt = m.expand_as(x).sum(dims, keepdim=True).clamp(min=1)
    mean = (x * m).sum(dims, keepdim=True) / cnt
    d = (x - mean) * m
    var = (d * d).sum(dims, keepdim=True) / cnt
    return d * torch.rsqrt(var + eps)


def norm_output_hook(module, args, out):
    """Forward hook of a norm over channels: recompute the output with
    statistics over the kept channels (a no-op while all are kept)."""
    m = module.out_mask
    if bool(m.all()):
        return None
    mode, cd = module._pruner_norm
    return masked_norm(module, mode, cd, args[0], m)


def _norm_mode(module: nn.Module, cd: int, shape) -> Optional[str]:
    """How ``module`` treats channel dim ``cd`` of inputs of ``shape``;
    None: a way the pruner cannot reproduce."""
    ndim = len(shape)
    if isinstance(module, nn.GroupNorm):
        if type(module).forward is not nn.GroupNorm.forward or cd != 1:
            return None
        return 'group1' if module.num_groups == module.num_channels \
            else 'group'
    if not isinstance(module, nn.LayerNorm):
        return None
    ns = len(module.normalized_shape)
    if type(module).forward is nn.LayerNorm.forward:
        if cd < ndim - ns:
            return ''
        return 'ln'
    # a subclass with its own forward: accept it if it computes
    # LayerNorm over the channel dim (LayerNorm2d)
    if ns != 1 or module.normalized_shape[0] != shape[cd]:
        return None
    with torch.no_grad():
        p = next(module.parameters(), None)
        kw = dict(dtype=p.dtype, device=p.device) if p is not None else {}
        x = torch.randn(2, *shape[1:], **kw)
        ones = torch.ones(_mask_shape(cd, ndim, shape[cd]), **kw)
        try:
            ref = module(x)
        except Exception:  # noqa: BLE001 (any failure: not understood)
            return None
        mine = masked_norm(module, 'channel', cd, x, ones)
    if relative_error(mine, ref) <= 1e-4:
        return 'channel'
    return None


def _mask_shape(cd: int, ndim: int, n: int):
    shape = [1] * ndim
    shape[cd] = n
    return shape


def trace_norm(union, rec: LayerRecord, module: nn.Module, v_dim: int,
               ids: Tensor, in_shape) -> None:
    """Record how a LayerNorm / GroupNorm treats the traced channels
    ``ids`` (along dim ``v_dim`` of inputs of ``in_shape``): its mode and
    channel dim, the group ties of GroupNorm; block the channels when the
    norm mixes them in another way."""
    rec.chan_dim = v_dim
    if not rec.out_channels:  # no affine parameters to count them by
        rec.in_channels = rec.out_channels = ids.numel()
    mode = _norm_mode(module, v_dim, in_shape)
    if mode is None:
        union.block(ids, f'{rec.name} ({type(module).__name__}) normalises '
                    'across channels in a way the pruner does not follow')
        return
    rec.norm_mode = mode
    if mode == 'ln':  # number of normalised dims, for norm_param_dim
        rec.param_dim = len(module.normalized_shape)
    if mode == 'group':
        tie_group_positions(union, ids, module.num_groups)


def norm_param_dim(rec: LayerRecord) -> int:
    """The dim of the norm's affine parameters that follows channels
    (``'ln'``: the channel dim among the normalised dims)."""
    if rec.norm_mode == 'ln':
        return max(0, rec.chan_dim - (rec.out_ndim - rec.param_dim))
    return 0


@LAYER_HANDLERS.register_module()
class GroupNormHandler(NormHandler):
    """``nn.LayerNorm`` (and subclasses computing LayerNorm over the
    channel dim) and ``nn.GroupNorm``: statistics across channels."""
    kind = 'group_norm'
    feature_norm = False
    mask_hooks = NormHandler.mask_hooks + (norm_output_hook, )

    def matches(self, module: nn.Module) -> bool:
        return isinstance(module, (nn.GroupNorm, nn.LayerNorm))

    def trace(self, res, rec, module, v, in_shape, out_shape):
        v = self.read_input(res, rec, v, None)
        if v is None:
            return None
        trace_norm(res.union, rec, module, v.dim, v.ids, in_shape)
        rec.out_ids = v.ids
        return v

    def output_hook(self, module, rec):
        if rec.norm_mode not in ('ln', 'channel', 'group'):
            return super().output_hook(module, rec)
        # statistics over the kept channels only
        module._pruner_norm = (rec.norm_mode, rec.chan_dim)
        return norm_output_hook

    def detach_masks(self, module):
        if hasattr(module, '_pruner_norm'):
            del module._pruner_norm

    def param_dim(self, rec):
        return norm_param_dim(rec)

    def prune_(self, module, rec, ko, ki):
        """Slice a LayerNorm / GroupNorm to the kept channels ``ko``."""
        if ko is None:
            return
        n = int(ko.sum())
        dim = norm_param_dim(rec)
        for name in ('weight', 'bias'):
            p = getattr(module, name, None)
            if p is not None:
                setattr(module, name, new_param(p, take(p, ko, dim)))
        if isinstance(module, nn.LayerNorm):
            ns = list(module.normalized_shape)
            if rec.norm_mode == 'ln':
                ns[rec.chan_dim - (rec.out_ndim - len(ns))] = n
            elif len(ns) == 1:
                ns = [n]
            module.normalized_shape = tuple(ns)
        elif isinstance(module, nn.GroupNorm):
            if rec.norm_mode == 'group1':
                module.num_groups = n
            module.num_channels = n
