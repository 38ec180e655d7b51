"""Every registered metric, checked against the contract in base_metric."""
import pytest
import torch

import mmrazor_ext  # noqa: F401
from mmrazor_ext.metrics import FeatureMetric, build_metric
from mmrazor_ext.metrics.base_metric import INPUT_KINDS
from mmrazor_ext.pruners.sampling.subnets import DIFF_NORMS
from mmrazor_ext.registry import METRICS

NUM_CLASSES = 3


def make_contents(metric, seed: int = 0):
    """``(contents, kwargs)`` for one call of ``metric``: two layers of the
    metric's input kind, plus labels / grads when it needs them."""
    gen = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=gen)

    kind = metric.input_kind
    if kind == 'conv_weight':
        return {'conv': randn(6, 3, 3, 3), 'fc': randn(4, 5)}, {}
    if kind == 'norm_weight':
        return {'bn1': randn(6), 'bn2': randn(4)}, {}
    if kind == 'block_feature':
        x = randn(12, 4, 5, 5)
        return {'block1': (x, x + 0.3 * randn(12, 4, 5, 5)),
                'block2': (x, 2 * x.flip(1))}, {}
    contents = {'a': randn(12, 6, 5, 5), 'b': randn(12, 4, 3, 3)}
    kwargs = {}
    if metric.needs_labels:
        kwargs['labels'] = torch.arange(12) % NUM_CLASSES
    if metric.needs_grads:
        kwargs['grads'] = {k: randn(*v.shape) for k, v in contents.items()}
    return contents, kwargs


def num_scores(metric, tensor) -> int:
    """Expected length of the score vector of one layer."""
    if metric.input_kind == 'block_feature':
        return 1
    if metric.input_kind == 'feature':
        return tensor.shape[1]
    return tensor.shape[0]


def clone(value):
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(clone(v) for v in value)
    return value.clone() if isinstance(value, torch.Tensor) else value


def equal(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    return a == b


ALL = sorted(METRICS.module_dict)
FEATURE = [n for n in ALL if issubclass(METRICS.get(n), FeatureMetric)]


def test_registry_holds_the_documented_metrics():
    assert {'L1Metric', 'L2Metric', 'BNScaleMetric', 'FPGMMetric',
            'RandomMetric', 'MeanActivationMetric', 'APoZMetric',
            'HRankMetric', 'CDPMetric', 'TaylorMetric', 'CKAMetric',
            'FeatureChangeMetric'} <= set(ALL)


@pytest.mark.parametrize('name', ALL)
def test_contract(name):
    metric = build_metric(name)
    assert metric.input_kind in INPUT_KINDS
    # its global-ranking preference is one the pruner knows (or none)
    assert metric.diff_norm in (None,) + DIFF_NORMS[1:]
    contents, kwargs = make_contents(metric)
    before = clone((contents, kwargs))
    scores = metric(contents, **kwargs)
    assert equal((contents, kwargs), before), 'metric changed its inputs'
    assert list(scores) == list(contents)
    for layer, score in scores.items():
        tensor = contents[layer]
        assert score.dim() == 1 and score.dtype == torch.float32
        assert len(score) == num_scores(metric, tensor)
        assert torch.isfinite(score).all()


@pytest.mark.parametrize('name', ALL)
def test_deterministic_and_stateless(name):
    metric = build_metric(name)
    contents, kwargs = make_contents(metric, seed=0)
    first = metric(contents, **kwargs)
    other, other_kwargs = make_contents(metric, seed=1)
    metric(other, **other_kwargs)  # must leave nothing behind
    assert equal(build_metric(name)(contents, **kwargs), first)
    assert equal(metric(contents, **kwargs), first)


@pytest.mark.parametrize('name', FEATURE)
def test_streaming_equals_all_at_once(name):
    metric = build_metric(name)
    contents, kwargs = make_contents(metric)
    whole = metric(contents, **kwargs)
    for layer, features in contents.items():
        collector = metric.collector()
        for idx in (slice(0, 5), slice(5, 6), slice(6, 12)):  # uneven
            labels = kwargs.get('labels')
            grads = kwargs.get('grads')
            collector.update(
                _take(features, idx),
                None if labels is None else labels[idx],
                None if grads is None else grads[layer][idx])
        torch.testing.assert_close(collector.compute(), whole[layer],
                                   rtol=1e-5, atol=1e-7)


def _take(features, idx):
    if isinstance(features, tuple):
        return tuple(f[idx] for f in features)
    return features[idx]


@pytest.mark.parametrize('name', FEATURE)
def test_compute_without_batches_is_a_clear_error(name):
    with pytest.raises(RuntimeError, match='no batch'):
        build_metric(name).collector().compute()


def test_unknown_name_lists_registered():
    with pytest.raises(KeyError, match='registered metrics: .*CDPMetric'):
        build_metric('NoSuchMetric')


def test_duplicate_registration_is_an_error():
    with pytest.raises(KeyError):
        METRICS.register_module(name='L1Metric', module=type(
            'L1Metric', (FeatureMetric, ), {}))
