"""A new layer kind is one handler plus its registration (the example of
docs/pruner.md): a conv with its own forward, which the tracer cannot
follow op by op, becomes prunable, and the registry's contract holds."""
import warnings

import pytest
import torch
import torch.nn.functional as F
from mmrazor.models.builder import build_pruner
from test_handler_contract import check_handler
from torch import nn

from mmrazor_ext.pruners.handlers import (LAYER_HANDLERS, LayerRecord,
                                          WeightLayerHandler)
from mmrazor_ext.pruners.handlers.layer_handler import (indices, new_param,
                                                        take)


class ScaledConv(nn.Module):
    """A 3x3 conv whose outputs are scaled by a learned vector, in its own
    forward: no built-in handler knows it."""

    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * 0.2)
        self.scale = nn.Parameter(torch.rand(cout) + 0.5)

    def forward(self, x):
        y = F.conv2d(x, self.weight, padding=1)
        return y * self.scale.view(1, -1, 1, 1)


class ScaledConvHandler(WeightLayerHandler):
    """Channels of :class:`ScaledConv`: a conv, plus its scale."""
    kind = 'scaled_conv'

    def matches(self, module):
        return type(module) is ScaledConv

    def new_record(self, name, module):
        out, inp = module.weight.shape[:2]
        return LayerRecord(name=name, kind=self.kind, in_channels=inp,
                           out_channels=out)

    def trace(self, res, rec, module, v, in_shape, out_shape):
        self.read_input(res, rec, v, 1)  # reads channels on dim 1
        return self.produce(res, rec, 1)  # makes new ones on dim 1

    def set_widths(self, module, out, inp):
        pass  # its widths are its weight's shape

    def param_masks(self, module, rec, ko, ki):
        out = super().param_masks(module, rec, ko, ki)
        return out + [(module.scale, ko.float())] if ko is not None else out

    def parameter_slices(self, rec, ko, ki):
        out = super().parameter_slices(rec, ko, ki)
        if ko is not None:
            out[f'{rec.name}.scale'] = (indices(ko), )
        return out

    def prune_(self, module, rec, ko, ki):
        super().prune_(module, rec, ko, ki)
        if ko is not None:
            module.scale = new_param(module.scale, take(module.scale, ko))


class Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.a, self.b = ScaledConv(3, 16), ScaledConv(16, 16)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        x = torch.relu(self.b(torch.relu(self.a(x))))
        return self.head(x.mean((2, 3)))


@pytest.fixture
def registered():
    LAYER_HANDLERS.register_module(module=ScaledConvHandler)
    try:
        yield
    finally:  # the registry is global: leave it as it was
        LAYER_HANDLERS._module_dict.pop(ScaledConvHandler.__name__)


def _prunable(model):
    p = build_pruner(dict(type='ChannelPruner', input_shape=(3, 16, 16),
                          divisor=1))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        p.prepare_from_supernet(model)
    return p.space_names()


def test_unknown_layer_blocks_its_channels():
    assert _prunable(Net()) == []


def test_registered_handler_prunes_it(registered):
    assert _prunable(Net()) == ['a', 'b']
    check_handler('scaled_conv', Net())
