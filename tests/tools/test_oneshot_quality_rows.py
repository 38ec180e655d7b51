"""tools/benchmarks/oneshot_quality.py: random@ROW keeps the metric
subnet's per-space counts, channels drawn from the seed."""
import importlib.util
import os.path as osp
from types import SimpleNamespace

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'oneshot_quality', osp.join(ROOT, 'tools/benchmarks/'
                                    'oneshot_quality.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _algo():
    spaces = [SimpleNamespace(name='a', num_channels=16),
              SimpleNamespace(name='b', num_channels=32)]
    return SimpleNamespace(
        choose_subnet=lambda step, scores: {'a': [0, 1, 2],
                                            'b': list(range(20))},
        pruner=SimpleNamespace(prunable_spaces=spaces))


def test_random_at_the_same_widths():
    tool = _tool()
    algo = _algo()
    tool.same_widths(algo, seed=3)
    sub = algo.choose_subnet(0, None)
    assert {n: len(v) for n, v in sub.items()} == {'a': 3, 'b': 20}
    assert sub['a'] != [0, 1, 2] and sub['a'] == sorted(set(sub['a']))
    assert all(0 <= i < 32 for i in sub['b'])
    again = _algo()
    tool.same_widths(again, seed=3)
    assert again.choose_subnet(0, None) == sub
    other = _algo()
    tool.same_widths(other, seed=4)
    assert other.choose_subnet(0, None) != sub


def test_every_row_names_a_metric_and_valid_pruner_options():
    from mmrazor.models.builder import build_pruner

    from mmrazor_ext.metrics import build_metric
    tool = _tool()
    assert set(tool.PRUNER_OPTIONS) <= set(tool.METRICS)
    for row, metric in tool.METRICS.items():
        build_metric(dict(type=metric, num_classes=10)
                     if metric == 'CDPMetric' else metric)
        build_pruner(dict(type='ChannelPruner', input_shape=(3, 8, 8),
                          **tool.PRUNER_OPTIONS.get(row, {})))
