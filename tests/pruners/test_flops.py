"""FLOPs / parameter counting (pruners/flops.py): functional calls on module
parameters, attention, parameters used once or not at all, agreement with
torch's FlopCounterMode, masked count == count of the exported model."""
import pytest
import torch
import torch.nn.functional as F
from mmrazor.models.builder import build_pruner
from torch import nn

from mmrazor_ext.testing.model_zoo import reference_macs, used_param_count

SHAPE = (3, 16, 16)


def _pruner(model, shape=SHAPE):
    p = build_pruner(dict(type='ChannelPruner', input_shape=shape))
    p.prepare_from_supernet(model)
    return p


class Functional(nn.Module):
    """Convs and linears called through F.* on the modules' parameters, a
    parameter shared by two layers and a layer the forward never uses."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 12, 3, padding=1, bias=False)
        self.fc1 = nn.Linear(12, 20)
        self.fc2 = nn.Linear(20, 5)
        self.unused = nn.Linear(100, 100)
        self.scale = nn.Parameter(torch.ones(12))  # used by an elementwise op

    def forward(self, x):
        x = F.relu(F.conv2d(x, self.c1.weight, self.c1.bias, padding=1))
        scale = self.scale.view(1, -1, 1, 1)
        x = F.conv2d(x, self.c2.weight, padding=1) * scale
        x = x.mean((2, 3))
        x = F.relu(F.linear(x, self.fc1.weight, self.fc1.bias))
        x = F.linear(x, self.fc2.weight, self.fc2.bias)
        return F.linear(x, self.fc2.weight[:, :5])  # shared, a view


def test_functional_calls_counted_and_unused_left_out():
    model = Functional().eval()
    p = _pruner(model)
    flops, params = p.flops_params({})
    hw = 16 * 16
    assert flops == (hw * 8 * 27 + hw * 12 * 72 + 12 * 20 + 20 * 5 + 5 * 5)
    # every parameter read once (fc2.weight twice, through a view), the
    # unused linear not at all
    assert params == sum(q.numel() for n, q in model.named_parameters()
                         if not n.startswith('unused'))
    assert params == used_param_count(model, SHAPE)
    assert flops == reference_macs(model, SHAPE)


class Attention(nn.Module):
    """A patch embedding, nn.MultiheadAttention (in_proj_weight read by
    F.linear inside the functional attention) and an MLP."""

    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.embed = nn.Conv2d(3, dim, 4, stride=4)
        self.norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 64), nn.GELU(),
                                 nn.Linear(64, dim))
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)
        y = self.norm(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        x = x + self.mlp(x)
        return self.head(x.mean(1))


def test_attention_counted_as_torch_counts_it():
    model = Attention().eval()
    p = _pruner(model)
    flops, params = p.flops_params({})
    n, d = 16, 32  # tokens, width
    expect = (n * d * 48 + n * 3 * d * d + 2 * n * n * d + n * d * d
              + 2 * n * d * 64 + d * 10)
    assert flops == expect
    assert flops == reference_macs(model, SHAPE)
    assert params == sum(q.numel() for q in model.parameters())
    assert params == used_param_count(model, SHAPE)


class Mixed(nn.Module):
    """A pruned channel space carried through a matmul between two
    activations (token mixing: the channels pass through whole)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(12, 24)
        self.out = nn.Linear(24, 6)

    def forward(self, x):
        x = x.flatten(2).transpose(1, 2)  # N, 16 tokens, 12
        w = torch.softmax(x @ x.transpose(1, 2), -1)  # N, 16, 16
        return self.out((w @ torch.relu(self.a(x))).mean(1))


@pytest.mark.parametrize('build', [Functional, Attention, Mixed])
def test_masked_count_equals_exported_count(build):
    torch.manual_seed(0)
    model = build().eval()
    shape = (12, 4, 4) if build is Mixed else SHAPE
    p = _pruner(model, shape)
    full = p.flops_params({})
    sub = p.sample_subnet_uniform(0.5, p.get_metric_local('L1Metric'))
    p.set_subnet(sub)
    masked = p.flops_params()
    small = p.export()
    assert masked == _pruner(small, shape).flops_params({})
    assert masked[1] == sum(q.numel() for n, q in small.named_parameters()
                            if not n.startswith('unused'))
    if build is not Functional:  # F.* calls block channels they mix
        assert masked[0] < full[0] and masked[1] < full[1]
    # the exported model agrees with torch's counter too
    assert masked[0] == reference_macs(small, shape)


def test_activation_matmul_scales_with_kept_channels():
    p = _pruner(Mixed().eval(), (12, 4, 4))
    assert p.space_names() == ['a']
    full = p.flops_params({})[0]
    keep = p.flops_params({'a': list(range(6))})[0]
    # w @ h: 16 x 16 x 24 -> 16 x 16 x 6; a: 16 x 12 x 24 -> 16 x 12 x 6;
    # out: 24 x 6 -> 6 x 6
    assert full - keep == 16 * 16 * 18 + 16 * 12 * 18 + 18 * 6


def test_subnet_none_and_empty():
    model = Attention().eval()
    p = _pruner(model)
    sub = p.sample_subnet_uniform(0.5)
    p.set_subnet(sub)
    assert p.flops_params() == p.flops_params(sub) != p.flops_params({})


class ParamOnlyBranch(nn.Module):
    """A layer run on parameters alone (like Swin V2's position-bias MLP):
    it runs once per forward, whatever the batch size."""

    def __init__(self):
        super().__init__()
        self.table = nn.Parameter(torch.randn(5, 2))
        self.mlp = nn.Linear(2, 16)
        self.conv = nn.Conv2d(3, 16, 1)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        bias = self.mlp(self.table).mean(0)
        return self.fc(self.conv(x).mean((2, 3)) + bias)


def test_ops_on_parameters_alone_count_once_per_forward():
    model = ParamOnlyBranch().eval()
    p = _pruner(model)
    assert p.flops_params({})[0] == 5 * 2 * 16 + 16 * 16 * 3 * 16 + 16 * 4
    assert p.flops_params({})[0] == reference_macs(model, SHAPE)
