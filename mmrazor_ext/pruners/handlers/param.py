"""Parameters that follow channels outside any layer (embeddings and
tokens: ViT's class token and position embedding; ConvNeXt's layer
scale). The probe finds them (``graph/param_channels.py``); each becomes a
``'param'`` record named after the parameter, sliced along its channel
dim on export. The masked model needs nothing: the channels such a
parameter scales or shifts are masked by their consumers."""
from typing import Dict, List, Tuple

from torch import nn

from ...registry import LAYER_HANDLERS
from .layer_handler import LayerHandler, along, indices, new_param, take
from .layer_record import LayerRecord


def add_param_records(model: nn.Module, found: List[Tuple],
                      layers: Dict[str, LayerRecord], union) -> None:
    """Turn ``(parameter, dim, element ids)`` found by the probes into
    ``'param'`` records named after the parameter. A parameter met twice
    joins the channels of both meetings."""
    names = {id(p): n for n, p in model.named_parameters()}
    for param, dim, ids in found:
        name = names.get(id(param))
        if name is None:  # not the model's: cannot be sliced on export
            union.block(ids, 'a parameter outside the model follows the '
                        'channels')
            continue
        rec = layers.get(name)
        if rec is None:
            rec = layers[name] = LayerRecord(
                name=name, kind=ParamHandler.kind, in_channels=ids.numel(),
                out_channels=ids.numel(), param_dim=dim,
                out_ndim=param.dim(), chan_dim=dim)
            rec.out_ids = ids
        elif rec.kind == ParamHandler.kind and \
                rec.out_ids.numel() == ids.numel():
            union.union_pairs(rec.out_ids, ids)


@LAYER_HANDLERS.register_module()
class ParamHandler(LayerHandler):
    """A parameter following channels: no module, no mask of its own."""
    kind = 'param'
    mask_hooks = ()
    names_module = False

    def owner(self, modules, rec):
        """The module holding the parameter."""
        return modules[rec.name.rpartition('.')[0]]

    def space_role(self, rec):
        return 'params'

    def attach_masks(self, module, rec):
        pass

    def set_masks(self, module, rec, sides):
        pass

    def param_masks(self, module, rec, ko, ki):
        if ko is None:
            return []
        p = getattr(module, rec.name.rpartition('.')[2])
        return [(p, along(ko, rec.param_dim, p.dim()))]

    def parameter_slices(self, rec, ko, ki):
        if ko is None:
            return {}
        return {rec.name: (None, ) * rec.param_dim + (indices(ko), )}

    def prune_(self, module, rec, ko, ki):
        if ko is None:
            return
        attr = rec.name.rpartition('.')[2]
        p = getattr(module, attr)
        setattr(module, attr, new_param(p, take(p, ko, rec.param_dim)))
