"""Which modules the tracer understands as a whole (conv, linear, norm).

A module is recognised by its class and by running the stock ``forward`` of
that class (a subclass that rewrites ``forward`` may compute something else,
so its ops are traced one by one instead). Everything else, activations,
pooling, user code, is traced op by op from the autograd graph.
"""
from typing import Optional

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd
from torch.nn.modules.instancenorm import _InstanceNorm

from .attention_specs import attention_spec, is_opaque_attention

_CONV_FORWARDS = {nn.Conv1d.forward, nn.Conv2d.forward, nn.Conv3d.forward}
_LINEAR_FORWARDS = {nn.Linear.forward}
_NORM_FORWARDS = {_BatchNorm.forward, nn.SyncBatchNorm.forward,
                  _InstanceNorm.forward}
try:  # mmcv's wrappers only add empty-tensor handling around the stock ops
    from mmcv.cnn.bricks import wrappers as _mmcv_wrappers
    _CONV_FORWARDS |= {_mmcv_wrappers.Conv2d.forward,
                       _mmcv_wrappers.Conv3d.forward}
    _LINEAR_FORWARDS.add(_mmcv_wrappers.Linear.forward)
    # spatial "same" padding before the stock conv: channels as a conv
    from mmcv.cnn.bricks.conv2d_adaptive_padding import \
        Conv2dAdaptivePadding as _AdaptivePadConv
    _CONV_FORWARDS.add(_AdaptivePadConv.forward)
except (ImportError, AttributeError):  # pragma: no cover
    pass


def layer_kind(module: nn.Module) -> Optional[str]:
    """``'conv'``, ``'linear'``, ``'norm'`` (per-channel), ``'group_norm'``
    (statistics across channels), ``'attention'`` (a multi-head attention
    class the pruner knows, see ``attention.py``) or None (trace its ops
    instead)."""
    if attention_spec(module) is not None or is_opaque_attention(module):
        return 'attention'
    forward = type(module).forward
    if isinstance(module, _ConvNd) and not module.transposed:
        return 'conv' if forward in _CONV_FORWARDS else None
    if isinstance(module, nn.Linear):
        return 'linear' if forward in _LINEAR_FORWARDS else None
    if isinstance(module, (_BatchNorm, _InstanceNorm)):
        return 'norm' if forward in _NORM_FORWARDS else None
    if isinstance(module, (nn.GroupNorm, nn.LayerNorm)):
        return 'group_norm'
    return None
