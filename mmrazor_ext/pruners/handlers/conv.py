"""Convolutions (``nn.Conv1d/2d/3d`` and mmcv's wrappers): dense, grouped
(channel ``j`` of every group is one unit, see ``group_units``) and
depthwise (outputs tied to the inputs, pruned on both sides)."""
from typing import Optional

from torch import Tensor, nn
from torch.nn.modules.conv import _ConvNd

from ...registry import LAYER_HANDLERS
from .group_units import tie_group_positions
from .layer_handler import Slices, indices, new_param, take
from .layer_record import LayerRecord, Traced
from .weight_layer import WeightLayerHandler

_FORWARDS = {nn.Conv1d.forward, nn.Conv2d.forward, nn.Conv3d.forward}
try:  # mmcv's wrappers only add empty-tensor handling around the stock ops
    from mmcv.cnn.bricks import wrappers as _mmcv_wrappers
    _FORWARDS |= {_mmcv_wrappers.Conv2d.forward,
                  _mmcv_wrappers.Conv3d.forward}
    # spatial "same" padding before the stock conv: channels as a conv
    from mmcv.cnn.bricks.conv2d_adaptive_padding import \
        Conv2dAdaptivePadding as _AdaptivePadConv
    _FORWARDS.add(_AdaptivePadConv.forward)
except (ImportError, AttributeError):  # pragma: no cover
    pass


@LAYER_HANDLERS.register_module()
class ConvHandler(WeightLayerHandler):
    """``nn.Conv*d`` (not transposed) with its class's stock forward."""
    kind = 'conv'

    def matches(self, module: nn.Module) -> bool:
        return isinstance(module, _ConvNd) and not module.transposed and \
            type(module).forward in _FORWARDS

    def new_record(self, name: str, module: nn.Module) -> LayerRecord:
        return LayerRecord(name=name, kind=self.kind,
                           in_channels=module.in_channels,
                           out_channels=module.out_channels,
                           groups=module.groups,
                           has_bias=module.bias is not None)

    def trace(self, res, rec, module, v, in_shape, out_shape):
        v = self.read_input(res, rec, v, 1)
        union, groups = res.union, module.groups
        if v is not None and groups > 1:
            if module.in_channels == module.out_channels == groups:
                rec.tied = True  # depthwise: outputs follow the inputs
                rec.out_ids = v.ids
                return Traced(1, v.ids)
            if module.in_channels == groups:
                union.block(v.ids, f'{rec.name}: depthwise conv with '
                            'in != out')
            tie_group_positions(union, v.ids, groups)
        if rec.out_ids is None:
            rec.out_ids = union.new(rec.out_channels)
            rec.produces = True
            tie_group_positions(union, rec.out_ids, groups)
        return self.produce(res, rec, 1)

    def set_widths(self, module, out, inp):
        if out is not None:
            module.out_channels = out
        if inp is not None:
            module.in_channels = inp

    def parameter_slices(self, rec: LayerRecord, ko: Optional[Tensor],
                         ki: Optional[Tensor]) -> Slices:
        if not rec.tied:
            return super().parameter_slices(rec, ko, ki)
        k = indices(ko if ko is not None else ki)
        return {f'{rec.name}.weight': (k, None), f'{rec.name}.bias': (k, None)}

    def prune_(self, module, rec, ko, ki):
        if not rec.tied:
            return super().prune_(module, rec, ko, ki)
        k = ko if ko is not None else ki
        n = int(k.sum())
        module.weight = new_param(module.weight, take(module.weight, k))
        if module.bias is not None:
            module.bias = new_param(module.bias, take(module.bias, k))
        module.groups = n // (rec.out_channels // rec.groups)
        module.in_channels = module.out_channels = n
