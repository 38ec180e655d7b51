"""Grouped convs (in != out too) pruned by keeping the same channels in
every group: spaces, export shapes, masked == exported, parameter masks."""
import pytest
import torch
from mmrazor.models.builder import build_pruner
from torch import nn

from mmrazor_ext.pruners.param_masks import zero_pruned_

SHAPE = (3, 8, 8)


class GroupNet(nn.Module):
    """Stem, a grouped conv widening 12 -> 24 (3 groups), a grouped 1x1
    (24 -> 24, 3 groups of 8), a depthwise conv, a classifier."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 12, 3, padding=1)
        self.g1 = nn.Conv2d(12, 24, 3, padding=1, groups=3)
        self.bn = nn.BatchNorm2d(24)
        self.g2 = nn.Conv2d(24, 24, 1, groups=3)
        self.dw = nn.Conv2d(24, 24, 3, padding=1, groups=24)
        self.fc = nn.Linear(24, 5)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        x = torch.relu(self.bn(self.g1(x)))
        x = self.dw(torch.relu(self.g2(x)))
        return self.fc(x.mean((2, 3)))


@pytest.fixture(scope='module')
def pruned():
    torch.manual_seed(0)
    model = GroupNet().eval()
    p = build_pruner(dict(type='ChannelPruner', input_shape=SHAPE, divisor=1))
    p.prepare_from_supernet(model)
    sub = p.sample_subnet_uniform(0.5, p.get_metric_local('L1Metric'))
    p.set_subnet(sub)
    return model, p, sub


def test_units_span_the_groups(pruned):
    model, p, _ = pruned
    spaces = {sp.name: sp for sp in p.channel_spaces}
    # channel j of each of g1's 3 input groups is one unit
    assert spaces['stem'].prunable and spaces['stem'].num_channels == 4
    assert spaces['stem'].channels_per_unit == 3
    assert spaces['g1'].num_channels == 8 and spaces['g2'].num_channels == 8
    assert spaces['g2'].passthrough == ['dw']
    for name in ('stem', 'g1', 'g2'):
        sp = spaces[name]
        units = p.layers[name].out_pos
        rows = units.view(3, -1)  # every group holds every unit once
        assert bool((rows.sort(1).values == rows[:1].sort(1).values).all())
        assert sp.prunable


def test_export_keeps_groups_and_shrinks_both_sides(pruned):
    model, p, _ = pruned
    small = p.export()
    assert small.g1.groups == 3 and small.g2.groups == 3
    assert tuple(small.g1.weight.shape) == (12, 2, 3, 3)
    assert tuple(small.g2.weight.shape) == (12, 4, 1, 1)
    assert small.dw.groups == 12
    x = torch.randn(2, *SHAPE)
    with torch.no_grad():
        y_masked, y_small = model(x), small(x)
    assert (y_masked - y_small).abs().max() <= 1e-5 * y_masked.abs().max()
    # every parameter the export keeps is counted, each once
    assert p.flops_params()[1] == sum(q.numel() for q in small.parameters())


def test_parameter_masks_zero_exactly_what_export_drops(pruned):
    model, p, _ = pruned
    x = torch.randn(2, *SHAPE)
    with torch.no_grad():
        before = model(x)
    saved = {n: q.detach().clone() for n, q in model.named_parameters()}
    try:
        zero_pruned_(p.param_masks())
        with torch.no_grad():
            after = model(x)
        assert (before - after).abs().max() <= 1e-6 * before.abs().max()
        kept = p.export().state_dict()
        for name, q in model.named_parameters():
            assert q.count_nonzero() <= kept[name].numel(), name
    finally:
        with torch.no_grad():
            for n, q in model.named_parameters():
                q.copy_(saved[n])
