"""What conv and linear layers share: a weight ``[out, in / groups,
...]`` (and a bias) read through channels on both sides."""
from typing import Optional

import torch
from torch import Tensor, nn

from .group_units import local_keep
from .layer_handler import (LayerHandler, ParamMasks, Slices, indices,
                            new_param, take)
from .layer_record import LayerRecord


class WeightLayerHandler(LayerHandler):
    """A layer with a weight: produces its output channels, consumes its
    input channels (per group, see ``group_units``)."""
    masks_input = True
    produces = True
    compared = True

    def set_widths(self, module: nn.Module, out: Optional[int],
                   inp: Optional[int]) -> None:
        """Set the module's width attributes after slicing (None: that
        side is unchanged)."""
        raise NotImplementedError

    def param_masks(self, module: nn.Module, rec: LayerRecord,
                    ko: Optional[Tensor], ki: Optional[Tensor]
                    ) -> ParamMasks:
        w = module.weight
        mask = torch.ones(w.shape[:2])
        if ko is not None:
            mask *= ko[:, None].float()
        if ki is not None and not rec.tied:
            if rec.groups > 1:
                ki = local_keep(ki, rec.groups)
            mask *= ki[None, :].float()
        out = [(w, mask.view(*mask.shape, *[1] * (w.dim() - 2)))]
        bias = getattr(module, 'bias', None)
        if ko is not None and isinstance(bias, Tensor):
            out.append((bias, ko.float()))
        return out

    def parameter_slices(self, rec: LayerRecord, ko: Optional[Tensor],
                         ki: Optional[Tensor]) -> Slices:
        if ki is not None and rec.groups > 1:
            ki = local_keep(ki, rec.groups)
        out = {f'{rec.name}.weight': (indices(ko), indices(ki))}
        if ko is not None:
            out[f'{rec.name}.bias'] = (indices(ko), None)
        return out

    def prune_(self, module: nn.Module, rec: LayerRecord,
               ko: Optional[Tensor], ki: Optional[Tensor]) -> None:
        w = module.weight
        if ko is not None:
            w = take(w, ko)
            if getattr(module, 'bias', None) is not None:
                module.bias = new_param(module.bias, take(module.bias, ko))
        if ki is not None:
            w = take(w, local_keep(ki, rec.groups) if rec.groups > 1
                     else ki, 1)
        module.weight = new_param(module.weight, w)
        self.set_widths(module, None if ko is None else int(ko.sum()),
                        None if ki is None else int(ki.sum()))
