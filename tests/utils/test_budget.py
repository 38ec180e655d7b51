"""The budget vocabulary (utils/budget.py): checks, the conversion of the
deprecated fraction-removed settings, the warning's words; AutoSlim's
budget turned into mmrazor's target_flops. Pure functions: milliseconds."""
import pytest

from mmrazor_ext.searchers.greedy_budget import greedy_target_flops
from mmrazor_ext.utils import UserInputError
from mmrazor_ext.utils.budget import (DeprecatedSettingWarning, check_budget,
                                      deprecated_budget, kept_from_removed)


@pytest.mark.parametrize('budget, kw, words', [
    (0.5, {}, r'budget=0.5 must be a dict such as dict\(flops=0.5\)'),
    ({}, {}, 'must be a dict'),
    (dict(flops=0), {}, r'flops=0 must be in \(0, 1\]'),
    (dict(flops=True), {}, 'flops=True must be in'),
    (dict(params=0.5), {}, "key 'params' is not supported here yet"),
    (dict(FLOPs=0.5), {}, "unknown .* did you mean 'flops'"),
    (dict(blocks=-1), dict(counts=('blocks', )), 'must be an int >= 0'),
    (dict(flops=0.5), dict(many=True), 'must be a list'),
    (dict(flops=[0.5, 2]), dict(many=True), r'flops=2 must be in \(0, 1\]'),
])
def test_bad_budgets_are_one_line(budget, kw, words):
    with pytest.raises(UserInputError, match=words) as err:
        check_budget(budget, 'X budget', **kw)
    assert '\n' not in str(err.value)


def test_good_budgets_come_back_as_plain_dicts():
    assert check_budget(dict(flops=1), 'X budget') == dict(flops=1)
    assert check_budget(dict(blocks=0), 'X budget', counts=('blocks', )) \
        == dict(blocks=0)
    assert check_budget(dict(flops=(0.7, 0.5)), 'X', many=True) == \
        dict(flops=[0.7, 0.5])


def test_removed_becomes_kept_and_the_warning_names_the_new_key():
    assert kept_from_removed('OneShot', 'flops_target', 0.3) == 0.7
    assert kept_from_removed('OneShot', 'flops_target', 0) == 1
    with pytest.raises(UserInputError, match=r'flops_target must be in '
                       r'\[0, 1\) \(fraction of FLOPs removed\), got 1'):
        kept_from_removed('OneShot', 'flops_target', 1)
    with pytest.warns(DeprecatedSettingWarning) as caught:
        out = deprecated_budget('OneShot', 'flops_target=0.3 (FLOPs '
                                'removed)', dict(flops=0.7), dict(flops=0.5))
    assert out == dict(flops=0.7)
    assert str(caught[0].message) == (
        'OneShot: flops_target=0.3 (FLOPs removed) is deprecated and will '
        'be removed in the next release; use budget=dict(flops=0.7) (FLOPs '
        "kept) instead; it overrides budget={'flops': 0.5}")
    assert issubclass(DeprecatedSettingWarning, FutureWarning)  # shown


class _Supernet:
    """What greedy_target_flops reads of mmrazor's AutoSlim."""

    def __init__(self):
        self.pruner, self.widest = self, False

    def set_max_channel(self):
        self.widest = True

    def get_subnet_flops(self):
        assert self.widest, 'counted before the widest subnet was set'
        return 1000


def test_autoslim_budget_becomes_target_flops():
    cfg = dict(type='GreedySearcher', budget=dict(flops=[0.75, 0.5]))
    out = greedy_target_flops(cfg, _Supernet())
    assert out == dict(type='GreedySearcher', target_flops=[750, 500])
    assert 'budget' in cfg  # the config is left alone
    plain = dict(type='GreedySearcher', target_flops=[30e6])
    assert greedy_target_flops(plain, _Supernet()) == plain
    with pytest.raises(UserInputError, match='not both'):
        greedy_target_flops(dict(plain, budget=dict(flops=[0.5])),
                            _Supernet())
