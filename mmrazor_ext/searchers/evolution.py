"""Evolution one generation at a time with geatpy's operators.

geatpy's templates (``soea_SEGA_templet``, ``soea_DE_rand_1_bin_templet``,
``moea_NSGA2_templet``) run every generation inside one ``run()`` call,
so a search could not be checkpointed after a generation and resumed.
Each class here is the loop body of one template, written with the same
geatpy operators (selection, recombination, mutation, fitness scaling,
non-dominated sorting) and their settings, split into
``offspring()`` (what to evaluate next) and ``survive()`` (the next
population). The whole state is plain data (:meth:`state`), the numpy
generator state included.

geatpy's operators draw from numpy's global generator; every call here
swaps the evolution's own state in and the caller's back afterwards, so
the evolution is a function of its seed alone.

Genomes are integer vectors: gene ``i`` is an index into the choice list
of variable ``i`` (``0 .. num_choices[i] - 1``; one count for every
variable, or one per variable: a joint genome's widths and blocks).
"""
import contextlib
from typing import Callable, Dict, Optional

import numpy as np


class _Geatpy:
    """geatpy, imported at its first use (a search's first generation),
    not with the package: ``import mmrazor_ext`` leaves it out of
    ``sys.modules``."""

    def __getattr__(self, name):
        import geatpy
        return getattr(geatpy, name)


ea = _Geatpy()

#: config name -> (geatpy template it follows, objectives)
ALGORITHMS = {'SEGA': ('soea_SEGA_templet', 1),
              'DE': ('soea_DE_rand_1_bin_templet', 1),
              'NSGA2': ('moea_NSGA2_templet', 2)}


class Evolution:
    """Population state and one geatpy template's generation step.

    Objectives are minimised or maximised as ``maxormins`` says (geatpy's
    convention: 1 minimise, -1 maximise); ``cv`` is geatpy's constraint
    violation (``<= 0``: feasible).

    Args:
        dim (int): Variables per genome.
        num_choices (int | sequence[int]): Choices per variable (one
            count for all, or one per variable).
        size (int): Population size.
        seed (int): Seed of the evolution's numpy generator.
        maxormins (sequence[int]): One entry per objective.
        identity (callable, optional): Genome -> hashable key; genomes
            with the same key are the same candidate (default: the genes).
    """

    NAME = ''

    def __init__(self, dim: int, num_choices: int, size: int, seed: int,
                 maxormins=(-1, ), identity: Optional[Callable] = None):
        self.dim, self.size = dim, size
        self.num_choices = np.broadcast_to(np.asarray(
            num_choices, dtype=np.int64), (dim, )).copy()
        self.identity = identity or (lambda genome: tuple(genome.tolist()))
        self.maxormins = np.array(maxormins)
        self.field = ea.crtfld('RI', np.ones(dim),
                               np.array([[0] * dim, self.num_choices - 1]),
                               np.ones((2, dim)))
        self.rng = np.random.RandomState(seed).get_state()
        self.chrom: Optional[np.ndarray] = None
        self.objv = self.cv = self.fitnv = None

    @contextlib.contextmanager
    def _random(self):
        """numpy's global generator holds this evolution's state inside."""
        outer = np.random.get_state()
        np.random.set_state(self.rng)
        try:
            yield
        finally:
            self.rng = np.random.get_state()
            np.random.set_state(outer)

    def _fix(self, chrom) -> np.ndarray:
        return np.clip(np.rint(chrom), 0, self.num_choices - 1).astype(
            np.int64)

    def _merge(self, chrom, objv, cv):
        """Parents and offspring together, each genome once (first
        occurrence; duplicates follow only if fewer distinct genomes than
        the population size exist). Without this, elitist reinsertion
        fills the population with copies of the best genome within a few
        generations (the SEGA template warns about duplicates) and the
        search stalls."""
        chrom = np.vstack([self.chrom, chrom])
        objv, cv = np.vstack([self.objv, objv]), np.vstack([self.cv, cv])
        seen, first = set(), []
        for i, genome in enumerate(chrom):
            key = self.identity(genome)
            if key not in seen:
                seen.add(key)
                first.append(i)
        first = np.array(first, dtype=np.int64)
        if len(first) < self.size:
            rest = np.setdiff1d(np.arange(len(chrom)), first)
            first = np.concatenate([first, rest[:self.size - len(first)]])
        return chrom[first], objv[first], cv[first]

    # ------------------------------------------------------------ steps
    def initial(self, prophets=()) -> np.ndarray:
        """The first population to evaluate: ``prophets`` (genomes given
        as prior knowledge, as the templates' ``prophetPop``) first, then
        as many mutants of them (breeder-GA mutation, ``Pm=2/dim``) as
        make half the population, then random genomes (geatpy's
        ``crtip``)."""
        prophets = np.asarray(list(prophets), dtype=np.int64).reshape(
            -1, self.dim)[:self.size]
        with self._random():
            chrom = ea.crtip(self.size, self.field).astype(np.int64)
            half = max(len(prophets), self.size // 2)
            if len(prophets):
                base = prophets[np.arange(half) % len(prophets)]
                chrom[:half] = self._fix(ea.Mutbga(
                    Pm=min(1.0, 2 / self.dim), MutShrink=0.5,
                    Gradient=20).do('RI', base.astype(float), self.field))
        chrom[:len(prophets)] = prophets
        return chrom

    def start(self, chrom, objv, cv) -> None:
        """Take the evaluated first population."""
        self.chrom, self.objv, self.cv = chrom, objv, cv
        self.fitnv = self._initial_fitness()

    def _initial_fitness(self):
        return ea.scaling(self.objv, self.cv, self.maxormins)

    def offspring(self) -> np.ndarray:
        """Genomes to evaluate in the next generation."""
        raise NotImplementedError

    def survive(self, chrom, objv, cv) -> None:
        """Form the next population from this one and the evaluated
        offspring."""
        raise NotImplementedError

    # ------------------------------------------------------------ state
    def state(self) -> Dict:
        return dict(chrom=self.chrom, objv=self.objv, cv=self.cv,
                    fitnv=self.fitnv, rng=self.rng)

    def load_state(self, state: Dict) -> None:
        for key, value in state.items():
            setattr(self, key, value)


class SEGAEvolution(Evolution):
    """``soea_SEGA_templet``: tournament selection, two-point crossover
    (0.7), breeder-GA mutation (``Pm=1/dim``), parents and offspring
    merged (each genome once, see :meth:`_merge`) and the best ``size``
    kept (``dup``)."""

    NAME = 'SEGA'

    def offspring(self):
        with self._random():
            idx = ea.selecting('tour', self.fitnv, self.size)
            chrom = ea.Xovdp(XOVR=0.7).do(self.chrom[idx])
            chrom = ea.Mutbga(Pm=1 / self.dim, MutShrink=0.5,
                              Gradient=20).do('RI', chrom, self.field)
        return self._fix(chrom)

    def survive(self, chrom, objv, cv):
        chrom, objv, cv = self._merge(chrom, objv, cv)
        fitnv = ea.scaling(objv, cv, self.maxormins)
        with self._random():
            keep = ea.selecting('dup', fitnv, self.size)
        self.chrom, self.objv, self.cv = chrom[keep], objv[keep], cv[keep]
        self.fitnv = ea.scaling(self.objv, self.cv, self.maxormins)


class DEEvolution(Evolution):
    """``soea_DE_rand_1_bin_templet``: DE/rand/1 mutation (``F=0.5``,
    base vectors by ``rcs``), binomial crossover (``Cr=0.5``), one-to-one
    survivor selection (``otos``)."""

    NAME = 'DE'

    def offspring(self):
        with self._random():
            r0 = ea.selecting('rcs', self.fitnv, self.size)
            trial = ea.Mutde(F=0.5).do('RI', self.chrom, self.field, [r0])
            trial = ea.Xovbd(XOVR=0.5, Half_N=True).do(
                np.vstack([self.chrom, trial]))
        return self._fix(trial)

    def survive(self, chrom, objv, cv):
        chrom = np.vstack([self.chrom, chrom])
        objv, cv = np.vstack([self.objv, objv]), np.vstack([self.cv, cv])
        fitnv = ea.scaling(objv, cv, self.maxormins)
        with self._random():
            keep = ea.selecting('otos', fitnv, self.size)
        self.chrom, self.objv, self.cv = chrom[keep], objv[keep], cv[keep]
        self.fitnv = ea.scaling(self.objv, self.cv, self.maxormins)


class NSGA2Evolution(Evolution):
    """``moea_NSGA2_templet``: tournament selection on rank and crowding,
    simulated binary crossover, polynomial mutation, elitist reinsertion
    (each genome once, see :meth:`_merge`) by non-dominated sorting
    (``ndsortESS``) and crowding distance."""

    NAME = 'NSGA2'

    def _initial_fitness(self):
        levels, _ = ea.ndsortESS(self.objv, self.size, None, self.cv,
                                 self.maxormins)
        return (1 / levels).reshape(-1, 1)

    def offspring(self):
        with self._random():
            idx = ea.selecting('tour', self.fitnv, self.size)
            chrom = ea.Recsbx(XOVR=1, n=20).do(
                self.chrom[idx].astype(float))
            chrom = ea.Mutpolyn(Pm=1 / self.dim, DisI=20).do(
                'RI', chrom, self.field)
        return self._fix(chrom)

    def survive(self, chrom, objv, cv):
        chrom, objv, cv = self._merge(chrom, objv, cv)
        levels, _ = ea.ndsortESS(objv, self.size, None, cv, self.maxormins)
        dis = ea.crowdis(objv, levels)
        fitnv = np.argsort(np.lexsort(np.array([dis, -levels])),
                           kind='mergesort').reshape(-1, 1).astype(float)
        with self._random():
            keep = ea.selecting('dup', fitnv, self.size)
        self.chrom, self.objv, self.cv = chrom[keep], objv[keep], cv[keep]
        self.fitnv = fitnv[keep]


def build_evolution(name: str, dim: int, num_choices, size: int,
                    seed: int, identity: Optional[Callable] = None
                    ) -> Evolution:
    """The evolution of config name ``name`` (a key of
    :data:`ALGORITHMS`); ``num_choices`` and ``identity`` as
    :class:`Evolution`'s."""
    cls = {'SEGA': SEGAEvolution, 'DE': DEEvolution,
           'NSGA2': NSGA2Evolution}[name]
    maxormins = (-1, ) if ALGORITHMS[name][1] == 1 else (-1, 1)
    return cls(dim, num_choices, size, seed, maxormins, identity)
