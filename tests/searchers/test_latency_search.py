"""The joint search under a latency budget: the lookup table (prediction =
sum of entries + constant, validation, cache keyed by machine and
runtime), the search JSON's latency fields, resume and 2 gloo processes
for the joint genome, and each bad input as one line."""
import json
import os
import pickle
import shutil

import pytest
import torch
from search_setup import (JOINT, LATENCY, comparable, make_searcher,
                          two_processes)

from mmrazor_ext.searchers import CandidateEvaluator, read_search_json
from mmrazor_ext.searchers import latency_model, latency_table
from mmrazor_ext.searchers.geatpy_searcher import STATE
from mmrazor_ext.utils import UserInputError


@pytest.fixture(scope='session')
def lut_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp('lut') / 'latency_table.json')


def joint(checkpoint, work, cache, **settings):
    cfg = dict(JOINT, latency=dict(LATENCY, cache=cache))
    cfg.update(settings)
    return make_searcher(checkpoint, work, **cfg)


@pytest.fixture(scope='session')
def joint_searched(checkpoint, lut_cache, tmp_path_factory):
    """One single-process joint search (its table measured into the
    cache): (searcher, result, comparable part)."""
    searcher = joint(checkpoint, tmp_path_factory.mktemp('joint'), lut_cache)
    result = searcher.search()
    return searcher, result, comparable(result)


def test_prediction_is_the_sum_of_the_entries(joint_searched):
    searcher, result, _ = joint_searched
    table, space, pruner = (searcher.latency_table, searcher.space,
                            searcher.pruner)
    table.estimated = 0  # (references off the keep-ratio grid are scaled)
    for rec in result['candidates']:
        keep = pruner.keep_vector(space.subnet(rec['kept'], None))
        removed = rec.get('blocks_removed', [])
        parts = table.breakdown(keep, removed)
        assert rec['latency_ms'] == pytest.approx(
            sum(ms for _, _, ms in parts) + table.constant)
        assert all(table.entries[key] == ms for _, key, ms in parts)
        assert not [n for n, _, _ in parts for b in removed
                    if n.startswith(b + '.')]  # removed layers not priced
    assert table.estimated == 0  # every candidate's widths are entries
    full = torch.ones(pruner.num_units, dtype=torch.bool)
    assert table.predict(full) == pytest.approx(table.unpruned_ms)


def test_search_json_latency_fields(joint_searched):
    searcher, result, _ = joint_searched
    data = read_search_json(searcher.json_path)
    best = data['best']
    assert set(best['latency_ms']) == {'predicted', 'measured'}
    assert best['latency_ms']['measured'] > 0
    assert best['latency_ratio'] <= JOINT['budget']['latency']
    assert set(best['blocks_removed']) <= set(searcher.space.block_names)
    model = data['latency_model']
    assert (model['runtime'], model['threads'], model['batch']) == (
        'onnxruntime', 1, 1)
    v = model['validation']
    assert v['candidates'] == LATENCY['validate'] == len(v['rows'])
    assert 0 <= v['median_relative_error'] <= v['max_relative_error']
    assert set(data['references']) == {'uniform', 'diff', 'blocks',
                                       'searched'}
    for name, (point, ) in data['references'].items():
        assert point['name'] == name
        assert point['latency_ms']['measured'] > 0
        assert isinstance(point['within_tolerance'], bool)
    assert data['references']['blocks'][0]['kept'] == searcher.space.sizes
    assert all(c['latency_ratio'] <= 0.7 for c in data['candidates'])
    assert os.path.isfile(os.path.join(searcher.work_dir,
                                       'search_pareto.png'))


@pytest.fixture
def spy(monkeypatch):
    """Every candidate the evaluator sees; ``kill_at`` raises there."""
    calls = dict(seen=[], kill_at=None)
    inner = CandidateEvaluator.__call__

    class Killed(BaseException):
        pass

    def call(self, subnet, removed=()):
        if calls['kill_at'] == len(calls['seen']):
            raise Killed
        calls['seen'].append((tuple(len(v) for v in subnet.values()),
                              tuple(removed)))
        return inner(self, subnet, removed)

    monkeypatch.setattr(CandidateEvaluator, '__call__', call)
    calls['killed'] = Killed
    return calls


def test_joint_resume_after_kill(checkpoint, lut_cache, joint_searched,
                                 tmp_path, spy):
    history = joint_searched[1]['history']
    assert history[1]['evaluated'] >= 1
    spy['kill_at'] = history[0]['evaluated']  # first evaluation of gen 2
    with pytest.raises(spy['killed']):
        joint(checkpoint, tmp_path, lut_cache).search()
    with open(tmp_path / STATE, 'rb') as f:
        assert pickle.load(f)['generation'] == 1
    first = set(spy['seen'])
    spy.update(kill_at=None, seen=[])
    result = joint(checkpoint, tmp_path, lut_cache).search()
    assert not first & set(spy['seen'][:history[1]['evaluated']])
    assert comparable(result) == joint_searched[2]


def test_joint_two_gloo_processes_equal_one(checkpoint, lut_cache,
                                            joint_searched, tmp_path,
                                            free_port):
    for result in two_processes(
            lambda: joint(checkpoint, tmp_path, lut_cache), free_port,
            tmp_path):
        assert result == joint_searched[2]


def test_cache_of_another_machine_is_measured_again(
        checkpoint, lut_cache, joint_searched, tmp_path, monkeypatch):
    said, measured = [], []
    monkeypatch.setattr(latency_table, '_say', said.append)
    cached = json.load(open(lut_cache))
    (key, table), = json.load(open(lut_cache))['tables'].items()

    def fake_measure(*args, **kwargs):  # the cached table, measured "now"
        measured.append(1)
        return dict({k: v for k, v in table.items() if k != 'validation'},
                    machine=latency_table.machine())

    monkeypatch.setattr(latency_model, 'measure_table', fake_measure)
    path = str(tmp_path / 'copy.json')
    shutil.copy(lut_cache, path)
    settings = dict(latency=dict(LATENCY, cache=path, validate=0))
    joint(checkpoint, tmp_path / 'a', path, **settings).prepare_latency()
    assert not measured and not said  # this machine's table: used
    cached['tables'][key]['machine']['host'] = 'elsewhere'
    with open(path, 'w') as f:
        json.dump(cached, f)
    joint(checkpoint, tmp_path / 'b', path, **settings).prepare_latency()
    assert measured == [1]
    assert len(said) == 1 and 'another machine' in said[0] and \
        "host 'elsewhere'" in said[0] and 'measuring again' in said[0]
    again = json.load(open(path))['tables'][key]['machine']
    assert again == latency_table.machine()  # re-measured here, cached
    other = dict(LATENCY, cache=path, validate=0, runtime='torch')
    joint(checkpoint, tmp_path / 'c', path,
          latency=other).prepare_latency()  # another runtime
    assert measured == [1, 1] and 'none for torch' in said[-1]


@pytest.mark.parametrize('settings, words', [
    (dict(budget=dict(latency=0.01)), 'budget latency=0.01 cannot be met: '
     'the smallest candidate (keep ratio 0.5 everywhere, all {n} removable '
     'blocks removed) is predicted at '),
    (dict(latency=dict(runtime='tensorrt')),
     "latency.runtime: runtime 'tensorrt' is not one of onnxruntime, "
     'torch'),
    (dict(latency=dict(runtime='onnxruntime'), uninstall=True),
     'latency.runtime: backend onnxruntime is not installed: pip install '
     'onnxruntime'),
    (dict(latency=dict(threads=0)), 'latency.threads=0 must be an integer'),
    (dict(latency=dict(colour=1)), "latency has unknown keys ['colour']"),
    (dict(corrupt=True), 'is corrupt'),
    (dict(budget=dict(latecny=0.5)), "did you mean 'latency'"),
])
def test_bad_latency_inputs_are_one_line(checkpoint, lut_cache,
                                         joint_searched, tmp_path,
                                         monkeypatch, settings, words):
    settings = dict(settings)
    path = str(tmp_path / 'cache.json')
    shutil.copy(lut_cache, path)
    if settings.pop('uninstall', False):
        from mmrazor_ext.deploy import runtimes
        monkeypatch.setattr(runtimes, 'backend_installed',
                            lambda name: name == 'torch')
    if settings.pop('corrupt', False):
        with open(path, 'w') as f:
            f.write('{"format": ')
    if 'latency' in settings:
        settings['latency'] = dict(settings['latency'], cache=path)
    words = words.format(n=len(joint_searched[0].space.blocks))
    with pytest.raises(UserInputError) as e:
        joint(checkpoint, tmp_path / 'work', path,
              **settings).prepare_latency()
    assert words in str(e.value) and '\n' not in str(e.value), str(e.value)
    assert not (tmp_path / 'work').exists()


def test_eager_runtime_table(checkpoint, tmp_path):
    """runtime='torch': the layers' eager wall times, cached as such."""
    path = str(tmp_path / 'eager.json')
    searcher = joint(checkpoint, tmp_path / 'work', path, latency=dict(
        LATENCY, runtime='torch', validate=0, cache=path))
    table = searcher.prepare_latency()
    assert table.data['runtime'] == 'torch' and 'validation' not in \
        table.data
    assert all(v > 0 for v in table.entries.values())
    full = torch.ones(searcher.pruner.num_units, dtype=torch.bool)
    assert table.predict(full) == pytest.approx(table.unpruned_ms)
    (key, ), = [list(json.load(open(path))['tables'])]
    assert key.startswith('torch/threads1/batch1/')
