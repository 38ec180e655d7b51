"""Coupled-parameter scores (producers, norms, consumers' input columns)
and the global ranking of signed scores with a floor per space."""
import pytest
import torch
from mmrazor.models.builder import build_pruner
from torch import nn

from mmrazor_ext.pruners.sampling import subnets as sampling
from mmrazor_ext.pruners.scoring import input_columns


class ConvBnConv(nn.Module):
    """conv1 (3 -> 4) -> bn -> relu -> conv2 (4 -> 2): one prunable space,
    ``conv1``, with producer conv1, norm bn and consumer conv2."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 2, 1, bias=False)
        with torch.no_grad():
            # producer rows: L1 4, 3, 2, 1 (channel 0 strongest)
            self.conv1.weight.copy_(torch.tensor(
                [4., 3., 2., 1.]).view(4, 1, 1, 1).expand(4, 3, 1, 1) / 3)
            self.bn.weight.fill_(1.)
            # consumer columns: L1 0, 0, 10, 10 (channels 2, 3 are read)
            self.conv2.weight.copy_(torch.tensor(
                [0., 0., 5., 5.]).view(1, 4, 1, 1).expand(2, 4, 1, 1))

    def forward(self, x):
        return self.conv2(torch.relu(self.bn(self.conv1(x))))


def _pruner(**kw):
    kw.setdefault('divisor', 1)  # exact counts on 4-channel layers
    p = build_pruner(dict(type='ChannelPruner', input_shape=(3, 4, 4),
                          **kw))
    p.prepare_from_supernet(ConvBnConv())
    return p


def test_the_consumer_input_column_counts():
    p = _pruner()
    sp = p.prunable_spaces[0]
    assert (sp.producers, sp.norms, sp.consumers) == \
        (['conv1'], ['bn'], ['conv2'])
    producers = p.get_metric_local('L1Metric')['conv1']
    assert torch.allclose(producers, torch.tensor([1., .75, .5, .25]))
    assert p.sample_subnet_uniform(0.5, {'conv1': producers}) == \
        {'conv1': [0, 1]}
    # raw sum over conv1's row, bn's |gamma| and conv2's column
    raw = p.get_metric_local('L1Metric', members='coupled', reduce='sum',
                             norm='none')['conv1']
    assert torch.allclose(raw, torch.tensor([5., 4., 13., 12.]))
    assert p.sample_subnet_uniform(0.5, {'conv1': raw}) == {'conv1': [2, 3]}
    # mean of the three members, each divided by its max first
    mean = p.get_metric_local('L1Metric', members='coupled')['conv1']
    assert torch.allclose(mean, torch.tensor([2., 1.75, 2.5, 2.25]) / 3)
    top = p.get_metric_local('L1Metric', members='coupled', reduce='max',
                             norm='none')['conv1']
    assert torch.allclose(top, torch.tensor([4., 3., 10., 10.]))
    # the pruner's options are the defaults of every call
    q = _pruner(score_members='coupled', score_reduce='sum',
                score_norm='none')
    assert torch.allclose(q.get_metric_local('L1Metric')['conv1'], raw)
    # a gamma metric has only the norms to score
    bn = p.get_metric_local('BNScaleMetric', members='coupled')['conv1']
    assert torch.allclose(bn, torch.ones(4))


def test_bad_score_options():
    with pytest.raises(ValueError, match='score_reduce'):
        _pruner(score_reduce='median')
    with pytest.raises(ValueError, match='score_members'):
        _pruner().get_metric_local('L1Metric', members='all')
    with pytest.raises(ValueError, match='min_keep_fraction'):
        _pruner(min_keep_fraction=1.5)
    with pytest.raises(ValueError, match='diff_norm'):
        _pruner(diff_norm='median')


def test_input_columns_of_grouped_convs():
    w = torch.randn(6, 2, 3, 3)  # groups=2: 4 inputs, 3 outputs per group
    cols = input_columns(w, 2)
    assert cols.shape == (4, 3, 3, 3)
    for c in range(4):
        g, j = divmod(c, 2)
        assert torch.equal(cols[c], w[3 * g:3 * g + 3, j])
    lin = torch.randn(3, 5)
    assert torch.equal(input_columns(lin, 1), lin.t())


SIZES = {'a': 4, 'b': 4}
# space a: every score negative (e.g. TF-IDF of class-agnostic channels)
SIGNED = {'a': torch.tensor([-5., -4., -3., -2.]),
          'b': torch.tensor([1., 2., 3., 4.])}


def test_signed_scores_rank_comparably():
    # dividing by the largest magnitude puts all of a below b: a empties
    old = sampling.sample_diff(SIZES, 0.5, SIGNED, diff_norm='max')
    assert old == {'a': [3], 'b': [1, 2, 3]}
    # min-max ('auto' picks it for signed scores) or z-score per space
    for how in ('auto', 'minmax', 'standard'):
        new = sampling.sample_diff(SIZES, 0.5, SIGNED, diff_norm=how)
        assert new == {'a': [2, 3], 'b': [2, 3]}
    # non-negative scores keep the division by the max under 'auto'
    pos = {'a': torch.tensor([1., 2., 3., 4.]),
           'b': torch.tensor([7., 8., 9., 10.])}
    assert sampling.sample_diff(SIZES, 0.5, pos) == \
        {'a': [3], 'b': [1, 2, 3]}


def test_floor_per_space():
    sub = sampling.sample_diff(SIZES, 0.5, SIGNED, diff_norm='max',
                               min_keep_fraction=0.5)
    assert sub == {'a': [2, 3], 'b': [2, 3]}  # without the floor a keeps 1
    # the pruner passes its options through
    scores = {'conv1': torch.tensor([4., 3., 2., 1.])}
    assert len(_pruner(min_keep_fraction=0.75).sample_subnet_diff(
        0.9, scores)['conv1']) == 3
    assert len(_pruner().sample_subnet_diff(0.9, scores)['conv1']) == 1
