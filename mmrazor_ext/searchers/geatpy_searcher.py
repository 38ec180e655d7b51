"""GeatpySearcher: evolutionary search of per-space keep ratios under a
FLOPs budget (HybridSearch's search stage), run by ``tools/search.py``."""
import hashlib
import json
import os
import os.path as osp
import pickle
import time
from typing import Optional, Sequence, Union

from mmcv.utils import print_log
from mmrazor.core.builder import SEARCHERS

from ..metrics import build_metric, collect_statistics
from ..utils import UserInputError, atomic_write, rank
from ..utils.budget import check_budget as checked_budget
from ..utils.budget import deprecated_budget
from .candidate_evaluator import CandidateEvaluator, SearchSplit
from .candidate_pool import CandidatePool
from .evolution import ALGORITHMS, build_evolution
from .search_io import search_json_path, write_search_json
from .search_result import build_result, reference_top1, save_plots
from .search_space import KeepRatioSpace, default_keep_ratios

STATE = 'hybrid_search_state.pkl'


@SEARCHERS.register_module()
class GeatpySearcher:
    """Search how many channels each prunable space keeps (a keep ratio
    per space from ``keep_ratios``) with a geatpy evolution, maximising
    the search top-1 under ``flops <= budget['flops'] * unpruned FLOPs``;
    which channels a space keeps is ranked once by ``metric``.

    Candidates are evaluated by inference (:class:`CandidateEvaluator`),
    each set of widths once (:class:`CandidatePool`). The budget is a
    constraint (geatpy's CV): candidates over it are counted, not
    evaluated, and rank below every feasible one. After each generation
    the state is saved to ``work_dir``; a rerun with the same settings
    resumes from the last finished generation with the same result.

    Args:
        model: The classifier (its trained weights loaded).
        pruner: Its prepared ``ChannelPruner``.
        data (dict): The config's ``data`` (``train``, ``val``).
        checkpoint (str): The checkpoint searched (the JSON goes beside).
        work_dir (str): State file and PNGs.
        ea_algorithm (str): ``'SEGA'``, ``'DE'`` (DE/rand/1/bin) or
            ``'NSGA2'`` (accuracy and FLOPs: a Pareto front).
        budget (dict): ``dict(flops=f)``: a subnet keeps at most ``f`` of
            the unpruned model's FLOPs, ``f`` in (0, 1] (default 0.5).
            (Was ``flops_budget=f``, deprecated: same meaning.)
        keep_ratios (sequence[float]): Choices of every space.
        population (int): Population size.
        generations (int): Generations, the initial population included.
        seed (int): Seed of the evolution, split and batches.
        metric (str | dict): Channel ranking inside each space.
        num_batches (int): Training batches a feature metric sees.
        search_split (dict): ``num_images`` held out of the training set.
        recalibrate_bn (int): BN recalibration batches per candidate.
        batch_size (int): Images per recalibration / metric batch.
        eval_batch_size (int): Images per forward pass on the search split.
        prophets (bool): Start from the widest uniform candidate within
            the budget and the global-ranking (``diff``) widths at the
            budget, half the population their mutants, besides random
            genomes.
        json_name (str, optional): File name of the search JSON (default
            :func:`search_json_path`).
        config (str, optional): The config file (recorded).
        logger: Unused (messages go to mmcls's logger).
    """

    def __init__(self, model, pruner, data, checkpoint: str, work_dir: str,
                 ea_algorithm: str = 'SEGA', budget: Optional[dict] = None,
                 keep_ratios: Optional[Sequence[float]] = None,
                 population: int = 16, generations: int = 8, seed: int = 0,
                 metric: Union[str, dict] = 'L1Metric', num_batches: int = 4,
                 search_split: Optional[dict] = None,
                 recalibrate_bn: int = 2, batch_size: int = 64,
                 eval_batch_size: int = 128, prophets: bool = True,
                 json_name: Optional[str] = None,
                 config: Optional[str] = None, logger=None,
                 flops_budget: Optional[float] = None, **kwargs):
        if flops_budget is not None:  # deprecated name, same meaning
            budget = deprecated_budget(
                'GeatpySearcher', f'flops_budget={flops_budget!r}',
                dict(flops=flops_budget), budget)
        self.model, self.pruner, self.data = model, pruner, data
        self.checkpoint, self.work_dir, self.config = (checkpoint, work_dir,
                                                       config)
        self.ea = ea_algorithm
        self.budget = dict(flops=0.5) if budget is None else budget
        self.population, self.generations = population, generations
        self.seed, self.metric, self.num_batches = int(seed), metric, \
            num_batches
        self.split_cfg = {'num_images': 256, **(search_split or {})}
        self.recal_batches, self.batch_size = recalibrate_bn, batch_size
        self.eval_batch_size, self.prophets = eval_batch_size, prophets
        self.check_settings(keep_ratios, kwargs)
        self.space = KeepRatioSpace(pruner, keep_ratios if keep_ratios
                                    is not None else default_keep_ratios())
        self.check_budget()
        self.json_path = osp.join(osp.dirname(osp.abspath(checkpoint)),
                                  json_name) if json_name else \
            search_json_path(checkpoint, self.ea, self.flops_kept)

    # ------------------------------------------------------------ checks
    def check_settings(self, keep_ratios, extra) -> None:
        """Cheap checks, one-line :class:`UserInputError` each."""
        if extra:
            raise UserInputError(f'GeatpySearcher got unknown settings '
                                 f'{sorted(extra)}')
        if self.ea not in ALGORITHMS:
            raise UserInputError(f'searcher ea_algorithm {self.ea!r} is not '
                                 f'one of {sorted(ALGORITHMS)}')
        for key in ('population', 'generations'):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or \
                    value < 1:
                raise UserInputError(f'searcher {key}={value!r} must be an '
                                     'integer >= 1')
        if self.ea == 'DE' and self.population < 4:
            raise UserInputError('searcher population must be >= 4 for DE')
        self.budget = checked_budget(self.budget, 'searcher budget')
        self.flops_kept = self.budget['flops']
        num = self.split_cfg.get('num_images')
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise UserInputError(f'searcher search_split.num_images={num!r} '
                                 'must be an integer >= 1')
        for key in ('recalibrate_bn', 'num_batches', 'batch_size',
                    'eval_batch_size'):
            value = getattr(self, dict(recalibrate_bn='recal_batches').get(
                key, key))
            if isinstance(value, bool) or not isinstance(value, int) or \
                    value < (0 if key == 'recalibrate_bn' else 1):
                raise UserInputError(f'searcher {key}={value!r} must be a '
                                     'positive integer')
        try:
            self.metric_obj = build_metric(self.metric)
        except (KeyError, TypeError, ValueError) as e:
            raise UserInputError(f'searcher metric {self.metric!r}: '
                                 f'{e}') from e

    def check_budget(self) -> None:
        """The budget is reachable with the smallest choice everywhere."""
        pool = CandidatePool(self.space, None, None, self.flops_kept)
        smallest = pool._record(self.space.counts(
            self.space.uniform_genome(0)), self.space.uniform_genome(0))
        if smallest['flops_ratio'] > self.flops_kept:
            raise UserInputError(
                f'searcher budget flops={self.flops_kept} cannot be met: '
                f'the '
                f'smallest candidate (keep ratio {self.space.choices[0]} '
                f'everywhere, min_channels={self.pruner.min_channels}) keeps '
                f'{smallest["flops_ratio"]:.1%} of the FLOPs')

    # ------------------------------------------------------------ helpers
    def say(self, msg: str) -> None:
        print_log(f'HybridSearch: {msg}', logger='mmcls')

    def settings(self) -> dict:
        return dict(ea_algorithm=self.ea, budget=self.budget,
                    population=self.population,
                    generations=self.generations, seed=self.seed,
                    metric=self.metric, num_batches=self.num_batches,
                    search_split=self.split_cfg,
                    recalibrate_bn=self.recal_batches,
                    batch_size=self.batch_size,
                    eval_batch_size=self.eval_batch_size,
                    prophets=self.prophets,
                    constraint='geatpy CV (flops_ratio - budget), '
                    'over-budget candidates not evaluated',
                    **self.space.describe())

    def fingerprint(self) -> str:
        """Settings and checkpoint: a saved state resumes only with the
        same ones."""
        stat = os.stat(self.checkpoint)
        text = json.dumps([self.settings(), osp.abspath(self.checkpoint),
                           stat.st_size, stat.st_mtime_ns], sort_keys=True,
                          default=str)
        return hashlib.sha1(text.encode()).hexdigest()

    def scores(self, split: SearchSplit):
        """Per-space channel scores of the trained model (once)."""
        metric = self.metric_obj
        if metric.input_kind != 'feature':
            return self.pruner.get_metric_local(metric)
        batches = split.train_batches(self.num_batches, self.batch_size,
                                      seed=self.seed + 1)
        collectors = collect_statistics(
            self.model, metric, batches,
            layers=self.pruner.feature_layer_names(), sync=False)
        return self.pruner.get_metric_local(metric, collectors)

    def _load_state(self, path, fingerprint) -> Optional[dict]:
        if not osp.isfile(path):
            return None
        try:
            with open(path, 'rb') as f:
                state = pickle.load(f)
        except Exception as e:  # a state we cannot read: start again
            self.say(f'ignoring unreadable state {path} ({e})')
            return None
        if state.get('fingerprint') != fingerprint:
            self.say(f'{path} holds a search with other settings or another '
                     'checkpoint: starting afresh')
            return None
        return state

    def _save_state(self, path, state) -> None:
        if rank() == 0:
            atomic_write(path, lambda tmp: pickle.dump(
                state, open(tmp, 'wb')))

    # ------------------------------------------------------------ search
    def prepare_split(self) -> SearchSplit:
        """The search split of the training set, built (and its size
        checked against ``search_split.num_images``) before the search;
        :meth:`search` builds it when this was not called."""
        self._split = SearchSplit(self.data, self.split_cfg['num_images'],
                                  self.seed)
        return self._split

    def search(self) -> dict:
        """Run (or resume) the search; write the JSON and PNGs (rank 0).
        Returns the JSON's content."""
        t_start = time.time()
        split = getattr(self, '_split', None) or self.prepare_split()
        images, labels = split.search_data()
        evaluator = CandidateEvaluator(
            self.pruner, images, labels,
            split.train_batches(self.recal_batches, self.batch_size),
            self.eval_batch_size)
        self.say(f'{self.ea} over {self.space.dim} channel spaces x '
                 f'{self.space.num_choices} keep ratios, FLOPs budget '
                 f'{self.flops_kept:g}, population {self.population}, '
                 f'{self.generations} generations, seed {self.seed}; search '
                 f'split: {len(split.search_idx)} of the training images '
                 f'(seed {self.seed}), BN recalibrated on '
                 f'{self.recal_batches} batches of the others')
        scores = self.channel_scores = self.scores(split)
        pool = CandidatePool(self.space, scores, evaluator,
                             self.flops_kept)
        evo = build_evolution(self.ea, self.space.dim, self.space.num_choices,
                              self.population, self.seed,
                              identity=self.space.counts)
        state_path = osp.join(self.work_dir, STATE)
        fingerprint = self.fingerprint()
        state = self._load_state(state_path, fingerprint)
        history, done, eval_seconds = [], 0, 0.0
        if state is not None:
            evo.load_state(state['evolution'])
            pool.cache, history = state['cache'], state['history']
            done, eval_seconds = state['generation'], state['eval_seconds']
            self.say(f'resuming after generation {done}/{self.generations} '
                     f'({len(pool.cache)} candidates known) from '
                     f'{state_path}')
        for gen in range(done + 1, self.generations + 1):
            t0 = time.time()
            if gen == 1:
                chrom = evo.initial(self._prophets(scores)
                                    if self.prophets else ())
            else:
                chrom = evo.offspring()
            records, counts = pool.evaluate(chrom)
            objv, cv = pool.objectives(records, evo.maxormins.size)
            if gen == 1:
                evo.start(chrom, objv, cv)
            else:
                evo.survive(chrom, objv, cv)
            seconds = time.time() - t0
            eval_seconds += seconds
            history.append(self._generation_entry(gen, evo, pool, counts,
                                                  seconds))
            self._save_state(state_path, dict(
                fingerprint=fingerprint, generation=gen, cache=pool.cache,
                history=history, eval_seconds=eval_seconds,
                evolution=evo.state()))
            self._log(history[-1], history)
        result = build_result(self, pool, split, history, eval_seconds,
                              time.time() - t_start)
        if rank() == 0:
            write_search_json(result, self.json_path)
            save_plots(self, result)
            self.say(f'best: search top-1 {result["best"]["search_top1"]:.2f}'
                     f' at {result["best"]["flops_ratio"]:.1%} of the FLOPs '
                     f'(uniform {reference_top1(result, "uniform")}, diff '
                     f'{reference_top1(result, "diff")} at the same FLOPs); '
                     f'written to {self.json_path}')
        return result

    def _prophets(self, scores):
        """The widest uniform genome within the budget, and the genome of
        the global-ranking (``diff``) widths at the budget (each space's
        largest choice not above its ``diff`` width)."""
        pool = CandidatePool(self.space, None, None, self.flops_kept)
        out = []
        for index in reversed(range(self.space.num_choices)):
            genome = self.space.uniform_genome(index)
            key = self.space.counts(genome)
            if pool._record(key, genome)['flops_ratio'] <= self.flops_kept:
                out.append(genome)
                break
        diff = self.pruner.sample_subnet_flops(
            min(1 - self.flops_kept, 0.999), scores, mode='diff')
        table = self.space.table
        genome = []
        for i, name in enumerate(self.space.names):
            fits = [j for j in range(table.shape[1])
                    if table[i, j] <= len(diff[name])]
            genome.append(max(fits) if fits else 0)
        if genome not in out:
            out.append(genome)
        return out

    def _generation_entry(self, gen, evo, pool, counts, seconds) -> dict:
        feasible = pool.feasible()
        pop = [r for r in (pool.cache[self.space.counts(g)]
                           for g in evo.chrom)
               if r['search_top1'] is not None]
        best = feasible[0] if feasible else None
        return dict(
            generation=gen, population=len(evo.chrom), **counts,
            best_top1=best['search_top1'] if best else None,
            best_flops_ratio=best['flops_ratio'] if best else None,
            mean_top1=(sum(r['search_top1'] for r in pop) / len(pop)
                       if pop else None),
            seconds=round(seconds, 2))

    def _log(self, h, history) -> None:
        per_gen = sum(x['seconds'] for x in history) / len(history)
        eta = per_gen * (self.generations - h['generation'])
        best = ('none within the budget yet' if h['best_top1'] is None else
                f'{h["best_top1"]:.2f} (FLOPs {h["best_flops_ratio"]:.1%})')
        mean = '-' if h['mean_top1'] is None else f'{h["mean_top1"]:.2f}'
        self.say(f'generation {h["generation"]}/{self.generations}: '
                 f'{h["evaluated"]} evaluated, {h["cache_hits"]} cache hits, '
                 f'{h["over_budget"]} over budget; best search top-1 {best}, '
                 f'population mean {mean}; {h["seconds"]:.1f} s, ETA '
                 f'{eta:.0f} s')
