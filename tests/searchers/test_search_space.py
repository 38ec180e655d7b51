"""KeepRatioSpace: widths rounded as the Pruner rounds them; the choice
list checked."""
import pytest
from search_setup import model_and_pruner

from mmrazor_ext.pruners.sampling.subnets import kept_count
from mmrazor_ext.searchers import KeepRatioSpace
from mmrazor_ext.searchers.search_space import check_keep_ratios
from mmrazor_ext.utils import UserInputError


@pytest.fixture(scope='module')
def pruner(checkpoint):
    return model_and_pruner(checkpoint)[1]


def test_counts_follow_the_pruner_rounding(pruner):
    space = KeepRatioSpace(pruner, [0.1, 0.5, 1.0])
    assert space.dim == len(pruner.space_names())
    genome = [0] * space.dim
    counts = space.counts(genome)
    assert counts == tuple(kept_count(n, 0.9, pruner.min_channels,
                                      pruner.divisor) for n in space.sizes)
    sub = space.subnet(counts, None)
    assert [len(sub[n]) for n in space.names] == list(counts)
    assert space.counts([2] * space.dim) == tuple(space.sizes)
    pruner.divisor, pruner.min_channels = 8, 8
    try:
        rounded = KeepRatioSpace(pruner, [0.1, 0.5, 1.0])
        kept = rounded.counts([0] * rounded.dim)
        assert all(k % 8 == 0 and k >= 8 for k in kept)
        sub = rounded.subnet(kept, None)
        assert [len(sub[n]) for n in rounded.names] == list(kept)
    finally:
        pruner.divisor, pruner.min_channels = 1, 1


@pytest.mark.parametrize('bad, words', [
    ([], 'empty'), ([0.0, 0.5], 'out of range'), ([0.5, 1.2], 'out of range'),
    ('0.5', 'list'), ([0.5, 'x'], 'out of range')])
def test_bad_choice_lists(bad, words):
    with pytest.raises(UserInputError, match=words):
        check_keep_ratios(bad)


def test_choices_sorted_and_unique():
    assert check_keep_ratios([1, 0.5, 0.5, 0.25]) == [0.25, 0.5, 1.0]
