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
