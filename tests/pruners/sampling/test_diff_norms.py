"""The global ranking's normalisation per space: by rank, and a metric's
preference carried by its scores (CDP ranks by rank)."""
import pytest
import torch
from mmrazor.models.builder import build_pruner
from torch import nn

from mmrazor_ext.metrics import CDPMetric, HRankMetric, L1Metric
from mmrazor_ext.pruners.sampling.subnets import SpaceScores, sample_diff

SIZES = {'a': 4, 'b': 8}
# a: a long low tail under one strong channel (as CDP's TF-IDF in a
# class-specific layer); b: evenly spread
SKEWED = {'a': torch.tensor([1.0, 0.02, 0.01, 0.03]),
          'b': torch.linspace(0.5, 1.0, 8)}


def test_rank_takes_the_same_share_of_every_space():
    by_max = sample_diff(SIZES, 0.5, SKEWED, diff_norm='max')
    assert by_max == {'a': [0], 'b': [3, 4, 5, 6, 7]}  # a emptied
    by_rank = sample_diff(SIZES, 0.5, SKEWED, diff_norm='rank')
    # half of each, each space's best: 0 and 3 in a, the top 4 of b
    assert by_rank == {'a': [0, 3], 'b': [4, 5, 6, 7]}
    # whatever the scale, and with ties (kept: the lower indices)
    flat = {'a': torch.zeros(4), 'b': 1e6 * torch.ones(8)}
    assert sample_diff(SIZES, 0.5, flat, diff_norm='rank') == \
        {'a': [0, 1], 'b': [0, 1, 2, 3]}


def test_auto_follows_the_scores_preference():
    pref = SpaceScores(SKEWED, diff_norm='rank')
    assert dict(pref) == SKEWED and pref.diff_norm == 'rank'
    assert sample_diff(SIZES, 0.5, pref) == \
        sample_diff(SIZES, 0.5, SKEWED, diff_norm='rank')
    # no preference (a plain dict, or None): by magnitude, as before
    for plain in (SKEWED, SpaceScores(SKEWED)):
        assert sample_diff(SIZES, 0.5, plain) == \
            sample_diff(SIZES, 0.5, SKEWED, diff_norm='max')
    # a setting other than 'auto' wins over the preference
    assert sample_diff(SIZES, 0.5, pref, diff_norm='max') == \
        sample_diff(SIZES, 0.5, SKEWED, diff_norm='max')
    with pytest.raises(ValueError, match="preference must be one of"):
        SpaceScores(SKEWED, diff_norm='auto')


class ThreeConvs(nn.Module):
    """conv1 (3 -> 4), conv2 (4 -> 8), conv3 (8 -> 2): two prunable
    spaces (conv1, conv2)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 1)
        self.conv2 = nn.Conv2d(4, 8, 1)
        self.conv3 = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        return self.conv3(torch.relu(self.conv2(torch.relu(self.conv1(x)))))


class RankedL1(L1Metric):
    diff_norm = 'rank'


def test_the_pruner_passes_the_metrics_preference_on():
    assert CDPMetric.diff_norm == HRankMetric.diff_norm == 'rank'
    assert L1Metric.diff_norm is None
    torch.manual_seed(0)
    pruner = build_pruner(dict(type='ChannelPruner', input_shape=(3, 4, 4),
                               divisor=1))  # exact counts, 4-8 channels
    pruner.prepare_from_supernet(ThreeConvs())
    l1 = pruner.get_metric_local('L1Metric')
    ranked = pruner.get_metric_local(RankedL1())
    assert l1.diff_norm is None and ranked.diff_norm == 'rank'
    assert all(torch.equal(l1[n], ranked[n]) for n in l1)
    sizes = {'conv1': 4, 'conv2': 8}
    assert pruner.sample_subnet_diff(0.5, ranked) == \
        sample_diff(sizes, 0.5, dict(l1), diff_norm='rank')
    assert pruner.sample_subnet_diff(0.5, l1) == \
        sample_diff(sizes, 0.5, dict(l1), diff_norm='max')
    # the pruner's own setting, when not 'auto', is what counts
    fixed = build_pruner(dict(type='ChannelPruner', input_shape=(3, 4, 4),
                              diff_norm='max', divisor=1))
    fixed.prepare_from_supernet(pruner.model)
    assert fixed.sample_subnet_diff(0.5, ranked) == \
        pruner.sample_subnet_diff(0.5, l1)
