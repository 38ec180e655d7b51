"""GeatpySearcher: evolutionary search of per-space keep ratios, and with
``blocks=True`` of which residual blocks to remove, under budgets in
FLOPs, parameters and measured latency (HybridSearch's search stage), run
by ``tools/search.py``."""
import os.path as osp
import time
from typing import Optional, Sequence, Union

from mmcv.utils import print_log
from mmrazor.core.builder import SEARCHERS

from ..metrics import collect_statistics
from ..utils import rank
from ..utils.budget import deprecated_budget
from .candidate_evaluator import CandidateEvaluator, SearchSplit
from .candidate_pool import CandidatePool
from .evolution import build_evolution
from .joint_space import JointSpace
from .latency_model import (check_latency_budget, check_latency_settings,
                            default_cache, load_latency_table)
from .prophets import prophets
from .search_io import budget_tag, search_json_path, write_search_json
from .search_log import generation_entry, log_generation, summary
from .search_result import build_result, save_plots
from .search_space import default_keep_ratios
from .search_state import STATE, fingerprint, load_state, save_state
from .searcher_checks import SearcherChecks


@SEARCHERS.register_module()
class GeatpySearcher(SearcherChecks):
    """Search how many channels each prunable space keeps (a keep ratio
    per space from ``keep_ratios``) and, with ``blocks=True``, which of
    Fusion's removable residual blocks to remove, with a geatpy evolution
    maximising the search top-1 under ``budget``; which channels a space
    keeps is ranked once by ``metric``.

    Candidates are evaluated by inference (:class:`CandidateEvaluator`),
    each distinct model once (:class:`CandidatePool`). Budgets are
    constraints (geatpy's CV): candidates over any are counted, not
    evaluated, and rank below every feasible one. A latency budget is
    checked against a latency lookup table measured once on the target
    runtime (``latency``, see ``latency_model.py``). After each generation
    the state is saved to ``work_dir``; a rerun with the same settings
    resumes from the last finished generation with the same result.

    Args:
        model: The classifier (its trained weights loaded).
        pruner: Its prepared ``ChannelPruner``.
        data (dict): The config's ``data`` (``train``, ``val``).
        checkpoint (str): The checkpoint searched (the JSON goes beside).
        work_dir (str): State file and PNGs.
        ea_algorithm (str): ``'SEGA'``, ``'DE'`` (DE/rand/1/bin) or
            ``'NSGA2'`` (accuracy and predicted latency, or FLOPs without
            a latency model: a Pareto front).
        budget (dict): Fractions of the unpruned model kept, any of
            ``flops``, ``params``, ``latency`` (measured latency on
            ``latency.runtime``), several at once (default
            ``dict(flops=0.5)``). (Was ``flops_budget=f``, deprecated.)
        blocks (bool): Search keep / remove of each removable residual
            block too (Fusion's blocks of the same graph, stage
            transitions kept).
        latency (dict, optional): The latency model: ``runtime``
            (``'onnxruntime'`` or ``'torch'``), ``threads``, ``batch``,
            ``cache`` (default beside the checkpoint), ``validate``
            (random candidates the table is checked on), ``runs``
            (least runs of each entry).
            Built when the budget has ``latency`` or this is given.
        block_metric (str | dict): Ranks blocks for the ``blocks``
            reference (Fusion's default).
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
                 blocks: bool = False, latency: Optional[dict] = None,
                 block_metric: Union[str, dict] = 'CKAMetric',
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
        self.blocks, self.block_metric = blocks, block_metric
        self.population, self.generations = population, generations
        self.seed, self.metric, self.num_batches = int(seed), metric, \
            num_batches
        self.split_cfg = {'num_images': 256, **(search_split or {})}
        self.recal_batches, self.batch_size = recalibrate_bn, batch_size
        self.eval_batch_size, self.prophets = eval_batch_size, prophets
        self.check_settings(keep_ratios, kwargs)
        self.latency_cfg = check_latency_settings(
            latency if latency is not None or 'latency' not in self.budget
            else {})
        self.space = JointSpace(pruner, keep_ratios if keep_ratios
                                is not None else default_keep_ratios(),
                                self._blocks())
        self.latency_table = None
        self.check_budget()
        self.json_path = osp.join(osp.dirname(osp.abspath(checkpoint)),
                                  json_name) if json_name else \
            search_json_path(checkpoint, self.ea, budget_tag(self.budget))

    def prepare_latency(self):
        """The latency table (cached, or measured now), and the check
        that a latency budget can be met; ``tools/search.py`` calls it
        before the work dir is made, :meth:`search` when it was not."""
        if self.latency_cfg is None or self.latency_table is not None:
            return self.latency_table
        cache = self.latency_cfg['cache'] or default_cache(self.checkpoint)
        self.latency_table = load_latency_table(
            self.pruner, self.space, self.latency_cfg, cache)
        if 'latency' in self.budget:
            pool = CandidatePool(self.space, None, None, {},
                                 self.latency_table)
            check_latency_budget(self.budget['latency'], pool, self.space,
                                 self.latency_cfg['runtime'])
        return self.latency_table

    # ------------------------------------------------------------ helpers
    def say(self, msg: str) -> None:
        print_log(f'HybridSearch: {msg}', logger='mmcls')

    def settings(self) -> dict:
        out = dict(ea_algorithm=self.ea, budget=self.budget,
                   population=self.population,
                   generations=self.generations, seed=self.seed,
                   metric=self.metric, num_batches=self.num_batches,
                   search_split=self.split_cfg,
                   recalibrate_bn=self.recal_batches,
                   batch_size=self.batch_size,
                   eval_batch_size=self.eval_batch_size,
                   prophets=self.prophets,
                   constraint='geatpy CV (ratio - budget per budget), '
                   'over-budget candidates not evaluated',
                   **self.space.describe())
        if self.blocks:
            out.update(blocks=self.space.block_names,
                       block_metric=self.block_metric)
        if self.latency_cfg is not None:
            out['latency'] = {k: v for k, v in self.latency_cfg.items()
                              if k != 'cache'}
        return out

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

    # ------------------------------------------------------------ search
    def prepare_split(self) -> SearchSplit:
        """The search split of the training set, built (and its size
        checked against ``search_split.num_images``) before the search;
        :meth:`search` builds it when this was not called."""
        self._split = SearchSplit(self.data, self.split_cfg['num_images'],
                                  self.seed)
        return self._split

    def _describe_budget(self) -> str:
        return ', '.join(f'{k} {v:g}' for k, v in self.budget.items())

    def search(self) -> dict:
        """Run (or resume) the search; write the JSON and PNGs (rank 0).
        Returns the JSON's content."""
        t_start = time.time()
        split = getattr(self, '_split', None) or self.prepare_split()
        table = self.prepare_latency()
        images, labels = split.search_data()
        evaluator = CandidateEvaluator(
            self.pruner, images, labels,
            split.train_batches(self.recal_batches, self.batch_size),
            self.eval_batch_size, self.space.blocks)
        blocks = (f' + keep/remove of {len(self.space.blocks)} blocks'
                  if self.space.blocks else '')
        self.say(f'{self.ea} over {self.space.widths.dim} channel spaces x '
                 f'{self.space.widths.num_choices} keep ratios{blocks}, '
                 f'budget {self._describe_budget()}, population '
                 f'{self.population}, {self.generations} generations, seed '
                 f'{self.seed}; search split: {len(split.search_idx)} of '
                 f'the training images (seed {self.seed}), BN recalibrated '
                 f'on {self.recal_batches} batches of the others')
        scores = self.channel_scores = self.scores(split)
        pool = CandidatePool(self.space, scores, evaluator, self.budget,
                             table)
        evo = build_evolution(self.ea, self.space.dim,
                              self.space.num_choices, self.population,
                              self.seed, identity=self.space.counts)
        state_path = osp.join(self.work_dir, STATE)
        print_ = fingerprint(self)
        state = load_state(state_path, print_, self.say)
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
                chrom = evo.initial(prophets(pool, self._flops_only())
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
            history.append(generation_entry(self, gen, evo, pool, counts,
                                            seconds))
            save_state(state_path, dict(
                fingerprint=print_, generation=gen, cache=pool.cache,
                history=history, eval_seconds=eval_seconds,
                evolution=evo.state()))
            log_generation(self, history[-1], history)
        result = build_result(self, pool, split, history, eval_seconds,
                              time.time() - t_start)
        if rank() == 0:
            write_search_json(result, self.json_path)
            save_plots(self, result)
            self.say(summary(self, result))
        return result

    def _flops_only(self):
        """The FLOPs budget of a width search with nothing else (the
        ``diff`` prophet is then taken at those FLOPs, as before)."""
        return self.flops_kept if set(self.budget) == {'flops'} else None
