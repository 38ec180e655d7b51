"""Linear layers (``nn.Linear``, mmcv's wrapper): channels on the last
dim, pruned on both sides."""
from torch import nn

from ...registry import LAYER_HANDLERS
from .layer_record import LayerRecord
from .weight_layer import WeightLayerHandler

_FORWARDS = {nn.Linear.forward}
try:  # mmcv's wrapper only adds empty-tensor handling
    from mmcv.cnn.bricks import wrappers as _mmcv_wrappers
    _FORWARDS.add(_mmcv_wrappers.Linear.forward)
except (ImportError, AttributeError):  # pragma: no cover
    pass


@LAYER_HANDLERS.register_module()
class LinearHandler(WeightLayerHandler):
    """``nn.Linear`` with its class's stock forward."""
    kind = 'linear'

    def matches(self, module: nn.Module) -> bool:
        return isinstance(module, nn.Linear) and \
            type(module).forward in _FORWARDS

    def new_record(self, name: str, module: nn.Module) -> LayerRecord:
        return LayerRecord(name=name, kind=self.kind,
                           in_channels=module.in_features,
                           out_channels=module.out_features,
                           has_bias=module.bias is not None)

    def trace(self, res, rec, module, v, in_shape, out_shape):
        self.read_input(res, rec, v, len(in_shape) - 1)
        return self.produce(res, rec, len(out_shape) - 1)

    def mask_shape(self, rec, n):
        return (n, )

    def channel_dim(self, rec, ndim):
        return ndim - 1

    def set_widths(self, module, out, inp):
        if out is not None:
            module.out_features = out
        if inp is not None:
            module.in_features = inp
