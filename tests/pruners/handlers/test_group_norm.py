"""LayerNorm / GroupNorm over channels and parameters following channels
(layer scale, position embeddings): prunable, masked == exported, the
masked norm's statistics over the kept channels only."""
import pytest
import torch
import torch.nn.functional as F
from mmrazor.models.builder import build_pruner
from torch import nn

from mmrazor_ext.pruners.masks import detach_masks
from mmrazor_ext.utils.tensor_compare import assert_close

SHAPE = (3, 8, 8)


class LN2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW tensor (as torchvision's and
    mmcls's LayerNorm2d): its own forward, recognised by what it
    computes."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias,
                         self.eps)
        return x.permute(0, 3, 1, 2)


class NotLN(nn.LayerNorm):
    """A LayerNorm subclass computing something else over channels."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x * x, self.normalized_shape, self.weight,
                         self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class NormNet(nn.Module):
    """ConvNeXt-like block (LN channels-last, MLP, layer scale, residual),
    LN2d, GroupNorm with 4 groups and with one channel per group."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.ln2d = LN2d(16)
        self.ln = nn.LayerNorm(16)
        self.fc1, self.fc2 = nn.Linear(16, 32), nn.Linear(32, 16)
        self.scale = nn.Parameter(torch.rand(16, 1, 1) + 0.5)
        self.conv = nn.Conv2d(16, 16, 1)
        self.gn = nn.GroupNorm(4, 16)
        self.conv2 = nn.Conv2d(16, 16, 1)
        self.gn1 = nn.GroupNorm(16, 16)
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        x = self.ln2d(self.stem(x))
        y = self.fc2(F.gelu(self.fc1(self.ln(x.permute(0, 2, 3, 1)))))
        x = x + self.scale * y.permute(0, 3, 1, 2)
        x = F.relu(self.gn(self.conv(x)))
        x = F.relu(self.gn1(self.conv2(x)))
        return self.head(x.mean((2, 3)))


@pytest.fixture(scope='module')
def pruned():
    torch.manual_seed(0)
    model = NormNet().eval()
    p = build_pruner(dict(type='ChannelPruner', input_shape=SHAPE, divisor=1))
    p.prepare_from_supernet(model)
    sub = p.sample_subnet_uniform(0.5, p.get_metric_local('L1Metric'))
    p.set_subnet(sub)
    return model, p


def test_norms_over_channels_are_prunable(pruned):
    model, p = pruned
    spaces = {sp.name: sp for sp in p.channel_spaces}
    stream = spaces['stem']
    assert stream.prunable, stream.reason
    assert {'ln2d', 'ln'} <= set(stream.norms)
    assert stream.params == ['scale']
    assert spaces['conv'].prunable and spaces['conv'].norms == ['gn']
    # GroupNorm keeps its 4 groups: channel j of every group is one unit
    assert spaces['conv'].num_channels == 4
    assert spaces['conv2'].num_channels == 16  # one channel per group
    assert p.layers['ln2d'].norm_mode == 'channel'
    assert p.layers['ln'].norm_mode == 'ln'


def test_masked_equals_exported(pruned):
    model, p = pruned
    small = p.export()
    assert small.ln.normalized_shape == (8, )
    assert small.ln2d.normalized_shape == (8, )
    assert small.scale.shape == (8, 1, 1)
    assert (small.gn.num_groups, small.gn.num_channels) == (4, 8)
    assert (small.gn1.num_groups, small.gn1.num_channels) == (8, 8)
    assert not small.ln._forward_hooks  # the export is an ordinary model
    x = torch.randn(2, *SHAPE)
    with torch.no_grad():
        y_masked, y_small = model(x), small(x)
    assert (y_masked - y_small).abs().max() <= 1e-5 * y_masked.abs().max()
    assert p.flops_params()[1] == sum(q.numel() for q in small.parameters())


def test_masked_statistics_over_kept_channels(pruned):
    model, p = pruned
    keep = model.ln2d.out_mask.flatten().bool()
    x = torch.randn(2, 16, 4, 4)
    with torch.no_grad():
        y = model.ln2d(x)
        ref = F.layer_norm(x[:, keep].permute(0, 2, 3, 1), (int(keep.sum()), ),
                           model.ln2d.weight[keep], model.ln2d.bias[keep],
                           model.ln2d.eps).permute(0, 3, 1, 2)
    assert_close(y[:, keep], ref, rtol=1e-5)
    assert not y[:, ~keep].any()


def test_unknown_norm_and_buffer_block():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 8, 1)
            self.norm = NotLN(8)
            self.b = nn.Conv2d(8, 8, 1)
            self.register_buffer('table', torch.rand(1, 8, 1, 1))
            self.fc = nn.Linear(8, 2)

        def forward(self, x):
            x = self.norm(self.a(x))
            x = self.b(x) + self.table  # a fixed table: cannot be sliced
            return self.fc(x.mean((2, 3)))

    p = build_pruner(dict(type='ChannelPruner', input_shape=SHAPE, divisor=1))
    p.prepare_from_supernet(Net())
    spaces = {sp.name: sp for sp in p.channel_spaces}
    assert not spaces['a'].prunable and 'NotLN' in spaces['a'].reason
    assert not spaces['b'].prunable and 'constant' in spaces['b'].reason
    assert not Net().table.requires_grad


def test_detach_removes_norm_hooks(pruned):
    model, p = pruned
    import copy
    m = copy.deepcopy(model)
    detach_masks(m)
    assert not m.ln._forward_hooks and not hasattr(m.ln, '_pruner_norm')
