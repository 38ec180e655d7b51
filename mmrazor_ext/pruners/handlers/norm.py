"""Norms with statistics per channel (BatchNorm, InstanceNorm): their
output channels are their input channels; export slices the affine
parameters and the running statistics."""
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from ...registry import LAYER_HANDLERS
from .layer_handler import LayerHandler, along, indices, new_param, take
from .layer_record import LayerRecord

_FORWARDS = {_BatchNorm.forward, nn.SyncBatchNorm.forward,
             _InstanceNorm.forward}


@LAYER_HANDLERS.register_module()
class NormHandler(LayerHandler):
    """BatchNorm / InstanceNorm with their stock forward."""
    kind = 'norm'
    feature_norm = True
    compared = True

    def matches(self, module: nn.Module) -> bool:
        return isinstance(module, (_BatchNorm, _InstanceNorm)) and \
            type(module).forward in _FORWARDS

    def new_record(self, name: str, module: nn.Module) -> LayerRecord:
        w = getattr(module, 'weight', None)
        n = getattr(module, 'num_features',
                    getattr(module, 'num_channels', None))
        n = n or (w.numel() if w is not None else 0)
        return LayerRecord(name=name, kind=self.kind, in_channels=n,
                           out_channels=n)

    def trace(self, res, rec, module, v, in_shape, out_shape):
        v = self.read_input(res, rec, v, 1, drop=False)
        if v is None:
            return None
        rec.out_ids = v.ids
        return v

    def space_role(self, rec):
        return 'norms'

    def param_dim(self, rec: LayerRecord) -> int:
        """The dim of the affine parameters that follows channels."""
        return 0

    def param_masks(self, module, rec, ko, ki):
        w = getattr(module, 'weight', None)
        if ko is None or w is None:
            return []
        mask = along(ko, self.param_dim(rec), w.dim())
        return [(p, mask) for p in (w, module.bias)
                if isinstance(p, Tensor) and p.dim() == mask.dim()]

    def parameter_slices(self, rec, ko, ki):
        if ko is None:
            return {}
        sl = (None, ) * self.param_dim(rec) + (indices(ko), )
        return {f'{rec.name}.weight': sl, f'{rec.name}.bias': sl}

    def prune_(self, module, rec, ko, ki):
        if ko is None:
            return
        for name in ('weight', 'bias'):
            p = getattr(module, name, None)
            if p is not None:
                setattr(module, name, new_param(p, take(p, ko)))
        for name in ('running_mean', 'running_var'):
            b = getattr(module, name, None)
            if b is not None:
                setattr(module, name, take(b, ko))
        if hasattr(module, 'num_features'):
            module.num_features = int(ko.sum())
