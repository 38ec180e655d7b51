"""What each layer kind needs, one file per kind (channels from the
trace, masks, parameter masks, slices, export), registered in
``LAYER_HANDLERS``: a new kind is one file plus its registration (see
docs/pruner.md)."""
from ...registry import LAYER_HANDLERS
from .attention import AttentionHandler
from .conv import ConvHandler
from .group_norm import GroupNormHandler
from .layer_handler import LayerHandler
from .layer_record import LayerRecord, Traced
from .linear import LinearHandler
from .norm import NormHandler
from .param import ParamHandler
from .registry import handler_for, handler_of, handlers
from .weight_layer import WeightLayerHandler

__all__ = ['LAYER_HANDLERS', 'LayerHandler', 'WeightLayerHandler',
           'LayerRecord', 'Traced', 'handler_for', 'handler_of', 'handlers',
           'ConvHandler', 'LinearHandler', 'NormHandler', 'GroupNormHandler',
           'AttentionHandler', 'ParamHandler']
