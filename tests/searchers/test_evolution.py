"""The per-generation evolutions follow their seed alone, leave numpy's
global generator alone, and continue from a saved state exactly."""
import copy

import numpy as np
import pytest

from mmrazor_ext.searchers import ALGORITHMS, build_evolution


def objective(chrom):
    """A toy problem: top-1 rises with the genes, FLOPs with their squares;
    the budget cuts the largest genomes."""
    acc = chrom.sum(1, keepdims=True).astype(float)
    flops = (chrom ** 2).sum(1, keepdims=True) / (chrom.shape[1] * 81.0)
    return acc, flops


def step(evo, chrom, two):
    acc, flops = objective(chrom)
    objv = np.hstack([acc, flops]) if two else acc
    return objv, flops - 0.5


def run(name, gens, seed=0, stop=None):
    evo = build_evolution(name, dim=6, num_choices=10, size=8, seed=seed)
    two = ALGORITHMS[name][1] == 2
    chrom = evo.initial([[0] * 6])
    evo.start(chrom, *step(evo, chrom, two))
    seen = [chrom.copy()]
    for g in range(1, gens):
        if stop == g:
            return evo, seen
        off = evo.offspring()
        evo.survive(off, *step(evo, off, two))
        seen.append(off.copy())
    return evo, seen


@pytest.mark.parametrize('name', sorted(ALGORITHMS))
def test_seeded_resumable_and_isolated(name):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    evo, seen = run(name, 6)
    assert np.array_equal(np.random.get_state()[1], before)
    again = run(name, 6)[1]
    assert all(np.array_equal(a, b) for a, b in zip(seen, again))
    other = run(name, 6, seed=1)[1]
    assert not all(np.array_equal(a, b) for a, b in zip(seen, other))
    assert seen[0][0].tolist() == [0] * 6  # the prophet comes first
    for chrom in seen:
        assert chrom.dtype == np.int64 and chrom.min() >= 0 \
            and chrom.max() <= 9
    # stop after 3 generations, rebuild from the saved state, go on
    half, _ = run(name, 6, stop=3)
    state = copy.deepcopy(half.state())
    two = ALGORITHMS[name][1] == 2
    fresh = build_evolution(name, dim=6, num_choices=10, size=8, seed=99)
    fresh.load_state(state)
    rest = []
    for _ in range(3, 6):
        off = fresh.offspring()
        fresh.survive(off, *step(fresh, off, two))
        rest.append(off)
    assert all(np.array_equal(a, b) for a, b in zip(rest, seen[3:]))
    assert np.array_equal(fresh.chrom, evo.chrom)


@pytest.mark.parametrize('name', ['SEGA', 'DE'])
def test_single_objective_improves_within_budget(name):
    evo, _ = run(name, 8)
    acc, flops = objective(evo.chrom)
    first = objective(run(name, 1)[0].chrom)[0]
    assert (flops <= 0.5).all()  # elitism keeps feasible genomes
    assert acc.max() >= first.max()
