import pytest
import torch

import mmrazor_ext  # noqa: F401
from mmrazor_ext.metrics import build_metric


def test_l1_l2_values():
    w = torch.tensor([[3., -4.], [0., 1.]])
    assert build_metric('L1Metric')({'fc': w})['fc'].tolist() == [7., 1.]
    assert build_metric('L2Metric')({'fc': w})['fc'].tolist() == [5., 1.]


def test_bn_scale_is_abs_gamma():
    scores = build_metric('BNScaleMetric')({'bn': torch.tensor([-3., .5])})
    assert scores['bn'].tolist() == [3., .5]


def test_fpgm_ranks_the_filter_at_the_median_lowest():
    # filters 0..3 on a line plus a duplicate of the middle one: the
    # middle filters sit at the geometric median
    w = torch.tensor([[0.], [1.], [2.], [3.], [4.]])[:, :, None, None]
    scores = build_metric('FPGMMetric')({'conv': w})['conv']
    assert scores.argmin() == 2
    assert scores.tolist() == [10., 7., 6., 7., 10.]


def test_random_is_seeded_per_layer_not_global():
    w = {'a': torch.zeros(50, 1), 'b': torch.zeros(50, 1)}
    torch.manual_seed(0)
    first = build_metric(dict(type='RandomMetric', seed=3))(w)
    torch.manual_seed(1)
    again = build_metric(dict(type='RandomMetric', seed=3))(
        {'b': w['b'], 'a': w['a']})
    assert torch.equal(first['a'], again['a'])
    assert torch.equal(first['b'], again['b'])
    assert not torch.equal(first['a'], first['b'])
    other = build_metric(dict(type='RandomMetric', seed=4))(w)
    assert not torch.equal(first['a'], other['a'])


def test_random_is_a_fresh_permutation_per_seed():
    """Issue 12 item 11: each layer's scores are a permutation (no ties),
    and no seed reuses the draw of another seed or layer: with
    ``seed * 1_000_003 + crc32(name)`` these two names (crc32 1_000_003
    apart) swapped draws between seeds 0 and 1."""
    a, b = 'layer9358.conv', 'layer287881.conv'
    w = {a: torch.zeros(64, 1), b: torch.zeros(64, 1)}
    draws = [build_metric(dict(type='RandomMetric', seed=s))(w)
             for s in range(20)]
    for d in draws:
        for s in d.values():
            assert sorted((s * 64).round().long().tolist()) == \
                list(range(1, 65))
    orders = {tuple(d[n].argsort().tolist()) for d in draws for n in w}
    assert len(orders) == 2 * len(draws)
    assert not torch.equal(draws[1][a], draws[0][b])


@pytest.mark.parametrize('name,bad,match', [
    ('L1Metric', torch.ones(4), 'conv/linear weight'),
    ('BNScaleMetric', torch.ones(4, 3, 1, 1), '1-D norm weight'),
    ('L2Metric', [1., 2.], 'must be a tensor'),
])
def test_bad_weights_are_one_line_errors(name, bad, match):
    with pytest.raises((TypeError, ValueError), match=match) as err:
        build_metric(name)({'layer': bad})
    assert '\n' not in str(err.value)


def test_contents_must_be_a_dict():
    with pytest.raises(TypeError, match='expects a dict'):
        build_metric('L1Metric')(torch.ones(2, 2))
