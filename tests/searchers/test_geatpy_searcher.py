"""GeatpySearcher: cache, budget constraint, resume after a kill, two
gloo processes, outputs and bad settings."""
import os
import os.path as osp
import pickle

import pytest
from search_setup import (comparable, make_searcher, model_and_pruner,
                          two_processes)

from mmrazor_ext.searchers import CandidateEvaluator, read_search_json
from mmrazor_ext.searchers.geatpy_searcher import STATE
from mmrazor_ext.utils import UserInputError


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


@pytest.fixture
def spy(monkeypatch):
    """Every subnet the evaluator sees (as kept counts); ``kill_at``
    raises :class:`Killed` at that call."""
    calls = dict(seen=[], kill_at=None)
    inner = CandidateEvaluator.__call__

    def call(self, subnet, removed=()):
        if calls['kill_at'] == len(calls['seen']):
            raise Killed
        calls['seen'].append(tuple(len(v) for v in subnet.values()))
        return inner(self, subnet, removed)

    monkeypatch.setattr(CandidateEvaluator, '__call__', call)
    return calls


def test_result_cache_and_outputs(searched):
    searcher, result, _ = searched
    cands = result['candidates']
    assert result['evaluated'] == len(cands)  # each genome evaluated once
    assert len({tuple(c['kept']) for c in cands}) == len(cands)
    assert result['best'] == dict(cands[0], **{
        k: result['best'][k] for k in ('subnet', 'keep_ratios',
                                       'blocks_removed')})
    assert result['best']['blocks_removed'] == []  # widths only
    assert result['best']['search_top1'] == max(c['search_top1']
                                                for c in cands)
    assert sum(h['evaluated'] + h['cache_hits'] + h['over_budget']
               for h in result['history']) == 4 * 3  # population x gens
    assert result['split']['source'] == 'data.train'
    for mode in ('uniform', 'diff'):  # references at the best's FLOPs
        ref = result['references'][mode][0]
        assert abs(ref['flops_ratio'] - result['best']['flops_ratio']) < 0.1
    # JSON (atomic, read back as written), state and PNGs
    data = read_search_json(searcher.json_path)
    assert data['best']['subnet'] == result['best']['subnet']
    work = osp.dirname(searcher.json_path)
    assert not [f for f in os.listdir(work) if f.endswith('.tmp')]
    for png in ('search_progress.png', 'search_pareto.png'):
        with open(osp.join(work, png), 'rb') as f:
            assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    with open(osp.join(work, STATE), 'rb') as f:
        assert pickle.load(f)['generation'] == 3


def test_nsga2_front_and_the_budget_constraint(checkpoint, tmp_path,
                                               model_pruner, spy):
    result = make_searcher(checkpoint, tmp_path, model_pruner,
                           ea_algorithm='NSGA2', generations=2,
                           budget=dict(flops=0.35)).search()
    # the budget is a constraint (CV): candidates over it are counted,
    # never evaluated, and none of them is kept
    assert result['over_budget'] > 0  # random genomes above 35% exist
    assert all(c['flops_ratio'] <= 0.35 for c in result['candidates'])
    refs = [tuple(r['kept']) for rs in result['references'].values()
            for r in rs]
    known = {tuple(c['kept']) for c in result['candidates']} | set(refs)
    assert set(spy['seen']) <= known
    # each candidate evaluated once, plus the references
    assert len(spy['seen']) == len(result['candidates']) + len(refs)
    front = result['pareto']
    assert front and result['best']['flops_ratio'] <= 0.35
    for p in front:  # nothing evaluated dominates a front point
        assert not [c for c in result['candidates']
                    if c['flops'] <= p['flops'] and
                    c['search_top1'] > p['search_top1']]
    flops = [p['flops'] for p in front]
    assert flops == sorted(flops)
    assert [p['search_top1'] for p in front] == sorted(
        p['search_top1'] for p in front)
    # at the best's FLOPs, and at up to 3 more points of the front
    assert 1 + min(len(front) - 1, 1) <= len(
        result['references']['uniform']) <= 4
    assert (tmp_path / 'search_pareto.png').is_file()


def test_resume_after_kill_gives_the_same_result(checkpoint, tmp_path,
                                                 searched, spy):
    history = searched[1]['history']
    assert history[1]['evaluated'] >= 1
    # killed at the first evaluation of generation 2
    spy['kill_at'] = history[0]['evaluated']
    with pytest.raises(Killed):
        make_searcher(checkpoint, tmp_path).search()
    with open(tmp_path / STATE, 'rb') as f:
        assert pickle.load(f)['generation'] == 1
    assert not (tmp_path / 'search.json').exists()
    first = set(spy['seen'])
    spy.update(kill_at=None, seen=[])
    result = make_searcher(checkpoint, tmp_path).search()
    assert not first & set(spy['seen'])  # generation 1 not evaluated again
    assert comparable(result) == searched[2]  # as if never interrupted


def test_two_gloo_processes_equal_one(checkpoint, tmp_path, searched,
                                      free_port):
    for result in two_processes(lambda: make_searcher(checkpoint, tmp_path),
                                free_port, tmp_path):
        assert result == searched[2]


@pytest.mark.parametrize('settings, words', [
    (dict(budget=dict(flops=0.01)), 'cannot be met'),
    (dict(budget=dict(flops=1.5)), r'budget flops=1.5 must be in \(0, 1\]'),
    (dict(budget=dict(flop=0.5)), "key 'flop' is unknown .* did you mean"),
    (dict(keep_ratios=[]), 'keep_ratios is empty'),
    (dict(keep_ratios=[0.5, 2.0]), r'keep_ratios \[2.0\] out of range'),
    (dict(population=0), 'population=0 must be an integer >= 1'),
    (dict(generations=0), 'generations=0 must be an integer >= 1'),
    (dict(ea_algorithm='GA'), "ea_algorithm 'GA' is not one of"),
    (dict(metric='NoSuchMetric'), 'metric'),
    (dict(colour='red'), 'unknown settings'),
])
def test_bad_settings_are_one_line_errors(checkpoint, tmp_path, settings,
                                          words, model_pruner):
    with pytest.raises(UserInputError, match=words) as e:
        make_searcher(checkpoint, tmp_path / 'work', model_pruner,
                      **settings)
    assert '\n' not in str(e.value)
    assert not (tmp_path / 'work').exists()


def test_old_flops_budget_warns_and_works(checkpoint, tmp_path,
                                          model_pruner):
    with pytest.warns(FutureWarning, match=r'flops_budget=0\.35 is '
                      r'deprecated .* use budget=dict\(flops=0\.35\)'):
        searcher = make_searcher(checkpoint, tmp_path, model_pruner,
                                 budget=None, flops_budget=0.35)
    assert searcher.budget == dict(flops=0.35)
    assert searcher.settings()['budget'] == dict(flops=0.35)


@pytest.fixture(scope='module')
def model_pruner(checkpoint):
    return model_and_pruner(checkpoint)
