"""Contract of every registered layer handler (timm style: parametrised
over ``LAYER_HANDLERS``, so a new handler is checked without new tests).

Each kind has a small model in ``EXAMPLES``; a registered kind without one
fails. On it: the handler's records exist and touch a prunable space; at
50% uniform L1 the masked model equals the exported one, the masked FLOPs
and params equal those of the exported model traced afresh, the
parameters export slices are those ``parameter_slices`` names (sliced the
same way), the parameter masks zero exactly what export drops, and
``detach_masks`` leaves no mask behind."""
import copy
import warnings

import pytest
import torch
from mmrazor.models.builder import build_pruner
from torch import nn

from mmrazor_ext.pruners import slice_tensor
from mmrazor_ext.pruners.handlers import LAYER_HANDLERS, handler_of, handlers
from mmrazor_ext.pruners.handlers.layer_handler import MASK_BUFFERS
from mmrazor_ext.pruners.masks import detach_masks
from mmrazor_ext.pruners.param_masks import zero_pruned_
from mmrazor_ext.utils.tensor_compare import assert_close

SHAPE = (3, 16, 16)


class ConvNet(nn.Module):
    """Dense, grouped and depthwise convs with BatchNorms and a residual."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.grouped = nn.Conv2d(16, 16, 3, padding=1, groups=4)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.out = nn.Conv2d(16, 8, 1)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        x = torch.relu(self.bn(self.stem(x)))
        x = x + self.dw(torch.relu(self.grouped(x)))
        return self.head(self.out(x).mean((2, 3)))


class LinearNet(nn.Module):
    """Patches flattened into a stack of linear layers."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Conv2d(3, 8, 4, stride=4)
        self.fc1, self.fc2 = nn.Linear(8 * 16, 32), nn.Linear(32, 24)
        self.head = nn.Linear(24, 4)

    def forward(self, x):
        x = self.embed(x).flatten(1)
        return self.head(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class NormNet(nn.Module):
    """GroupNorm over conv channels and LayerNorm over tokens."""

    def __init__(self):
        super().__init__()
        self.conv1, self.gn = nn.Conv2d(3, 16, 3, padding=1), \
            nn.GroupNorm(4, 16)
        self.conv2, self.ln = nn.Conv2d(16, 12, 3, padding=1), \
            nn.LayerNorm(12)
        self.head = nn.Linear(12, 4)

    def forward(self, x):
        x = self.conv2(torch.relu(self.gn(self.conv1(x))))
        return self.head(self.ln(x.flatten(2).transpose(1, 2)).mean(1))


class TokenNet(nn.Module):
    """Patch tokens with a class token, a position embedding, one
    attention block with a layer scale and a linear head: attention,
    parameters following channels and matmuls together."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Conv2d(3, 32, 4, stride=4)
        self.cls = nn.Parameter(torch.randn(1, 1, 32) * 0.1)
        self.pos = nn.Parameter(torch.randn(1, 17, 32) * 0.1)
        self.ln = nn.LayerNorm(32)
        self.attn = nn.MultiheadAttention(32, 4, batch_first=True)
        self.scale = nn.Parameter(torch.full((32, ), 0.5))
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        h = self.ln(x)
        x = x + self.scale * self.attn(h, h, h, need_weights=False)[0]
        return self.head(x[:, 0])


# kind -> the example model exercising it
EXAMPLES = {'conv': ConvNet, 'norm': ConvNet, 'linear': LinearNet,
            'group_norm': NormNet, 'attention': TokenNet, 'param': TokenNet}


def _kinds():
    return sorted({h.kind for h in handlers()})


def test_every_registered_kind_has_an_example():
    assert set(_kinds()) <= set(EXAMPLES), set(_kinds()) - set(EXAMPLES)


def check_handler(kind, model, shape=SHAPE):
    """The contract, for the records of ``kind`` in ``model``."""
    torch.manual_seed(0)
    model = model.eval()
    pruner = build_pruner(dict(type='ChannelPruner', input_shape=shape,
                               divisor=1))  # exact counts, tiny layers
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        pruner.prepare_from_supernet(model)
    mine = [r for r in pruner.layers.values() if r.kind == kind]
    assert mine, f'no {kind} record'
    h = handler_of(mine[0])
    for n, m in model.named_modules():  # matches() and records agree
        if h.matches(m):
            assert n in pruner.layers and pruner.layers[n].kind == kind
    assert any(bool((pos >= 0).any()) for r in mine
               for pos in (r.in_pos, r.out_pos) if pos is not None), \
        f'no {kind} layer touches a prunable space'
    sub = pruner.sample_subnet_uniform(0.5,
                                       pruner.get_metric_local('L1Metric'))
    pruner.set_subnet(sub)
    small = pruner.export().eval()
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y_masked, y_small = model(x), small(x)
    assert_close(y_small, y_masked, rtol=1e-5)
    # FLOPs and params: the masked count is the exported model's
    again = build_pruner(dict(type='ChannelPruner', input_shape=shape))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        again.prepare_from_supernet(copy.deepcopy(small))
    assert pruner.flops_params() == again.flops_params({})
    # slices: what export did to every parameter
    slices = pruner.parameter_slices()
    full = dict(model.named_parameters())
    for name, p in small.named_parameters():
        ref = slice_tensor(full[name], slices[name]) if name in slices \
            else full[name]
        assert torch.equal(p, ref), name
    assert any(n.startswith(tuple(r.name for r in mine)) for n in slices)
    # parameter masks zero exactly what export drops
    masked = copy.deepcopy(model)
    pruner_params = {id(p): n for n, p in model.named_parameters()}
    zeroed = {pruner_params[id(p)]: m for p, m in pruner.param_masks()}
    for name in slices:  # every parameter that loses entries has a mask
        if name in full and slice_tensor(full[name], slices[name]).shape \
                != full[name].shape:
            assert name in zeroed, name
    for name, mask in zeroed.items():
        kept = slice_tensor(mask.expand_as(full[name]), slices[name])
        assert bool((kept == 1).all()), name
        assert int(mask.expand_as(full[name]).sum()) == kept.numel(), name
    zero_pruned_([(dict(masked.named_parameters())[n], m)
                  for n, m in zeroed.items()])
    with torch.no_grad():
        assert_close(masked(x), y_masked, rtol=1e-5)
    # detach leaves no mask
    detach_masks(model)
    hooks = set(h.mask_hooks for h in handlers())
    hooks = {f for group in hooks for f in group}
    for m in model.modules():
        assert not set(MASK_BUFFERS) & set(dict(m.named_buffers(
            recurse=False)))
        assert not hooks & (set(m._forward_hooks.values()) | set(
            m._forward_pre_hooks.values()))
    return pruner


@pytest.mark.parametrize('kind', _kinds())
def test_handler_contract(kind):
    check_handler(kind, EXAMPLES[kind]())


def test_registry_refuses_a_second_registration():
    cls = type(handlers()[0])
    with pytest.raises(KeyError):
        LAYER_HANDLERS.register_module(module=cls)
