"""Every candidate a search has met, each evaluated at most once, the
evaluations of a generation shared out over the ranks."""
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch.distributed as dist

from ..utils import is_distributed

Key = Tuple[int, ...]


def run_shared(items: Sequence, fn: Callable) -> List:
    """``[fn(x) for x in items]``, rank ``r`` of ``W`` computing items
    ``r, r + W, ...``; the results are gathered onto every rank (in
    ``items``' order). One process: plain loop."""
    if not is_distributed():
        return [fn(x) for x in items]
    rank, world = dist.get_rank(), dist.get_world_size()
    mine = {i: fn(items[i]) for i in range(rank, len(items), world)}
    parts = [None] * world
    dist.all_gather_object(parts, mine)
    merged = {i: v for part in parts for i, v in part.items()}
    return [merged[i] for i in range(len(items))]


class CandidatePool:
    """The cache of a search: candidate identity -> record.

    A record holds ``kept`` (channels per space), ``blocks_removed``,
    ``genome`` (the first genome met with that identity), ``flops``,
    ``params``, ``flops_ratio``, ``params_ratio``, with a latency model
    ``latency_ms`` (predicted) and ``latency_ratio`` (of the unpruned
    model's measured latency), and ``search_top1`` (None: over a budget,
    never evaluated).

    Args:
        space (JointSpace): Genomes -> widths, blocks -> subnets.
        scores (dict): Per-space channel scores (which channels are kept).
        evaluator (callable): ``(subnet, removed) -> search top-1``.
        budget (dict): Fractions kept per kind (``flops``, ``params``,
            ``latency``); a candidate over any of them is infeasible.
        latency (LatencyTable, optional): Predicts ``latency_ms``.
    """

    def __init__(self, space, scores, evaluator: Callable, budget: dict,
                 latency=None):
        self.space, self.scores, self.evaluator = space, scores, evaluator
        self.budget, self.latency = dict(budget), latency
        self.full_flops, self.full_params = space.pruner.flops_params({})
        self.cache: Dict[Key, dict] = {}

    @property
    def axis(self) -> str:
        """What the second objective and the front measure: predicted
        latency when the search has a latency model, else FLOPs."""
        return 'latency' if self.latency is not None else 'flops'

    def subnet(self, kept):
        return self.space.subnet(list(kept), self.scores)

    def record(self, kept, removed=(), genome=None) -> dict:
        """The record of widths ``kept`` and blocks ``removed`` (not
        evaluated)."""
        kept, removed = [int(k) for k in kept], list(removed)
        sub = self.subnet(kept) if self.scores is not None else {
            n: list(range(k)) for n, k in zip(self.space.names, kept)}
        flops, params = self.space.pruner.flops_params(sub, without=removed)
        rec = dict(kept=kept, genome=None if genome is None else
                   [int(g) for g in genome], flops=flops, params=params,
                   flops_ratio=flops / self.full_flops,
                   params_ratio=params / self.full_params,
                   search_top1=None)
        if self.space.blocks:
            rec['blocks_removed'] = removed
        if self.latency is not None:
            ms = self.latency.predict(self.space.pruner.keep_vector(sub),
                                      removed)
            rec.update(latency_ms=ms,
                       latency_ratio=ms / self.latency.unpruned_ms)
        return rec

    def _record(self, key: Key, genome) -> dict:
        return self.record(self.space.kept(genome),
                           self.space.removed(genome), genome)

    def violation(self, rec) -> List[float]:
        """Per budget, ratio minus budget (> 0: over it)."""
        return [rec[f'{k}_ratio'] - v for k, v in self.budget.items()]

    def evaluate(self, genomes) -> Tuple[List[dict], dict]:
        """Records of ``genomes`` (one per row) and the generation's
        counts: ``evaluated`` (new, within budget), ``cache_hits``
        (already known, also twice in this generation) and
        ``over_budget`` (new, over a budget: counted, not evaluated)."""
        keys = [self.space.counts(g) for g in genomes]
        new, hits, over = [], 0, 0
        for key, genome in zip(keys, genomes):
            if key in self.cache:
                hits += 1
                continue
            rec = self.cache[key] = self._record(key, genome)
            if max(self.violation(rec)) > 0:
                over += 1
            else:
                new.append(key)
        for key, top1 in zip(new, run_shared(
                new, lambda k: self.top1_of(self.cache[k]))):
            self.cache[key]['search_top1'] = top1
        return [self.cache[k] for k in keys], dict(
            evaluated=len(new), cache_hits=hits, over_budget=over)

    def top1_of(self, rec) -> float:
        """Search top-1 of a record's candidate."""
        return self.evaluator(self.subnet(rec['kept']),
                              rec.get('blocks_removed') or [])

    def objectives(self, records, num_objectives: int):
        """geatpy's ``ObjV`` (search top-1; and the :attr:`axis` ratio for
        two objectives) and ``CV`` (one column per budget: ratio minus
        budget, > 0 violates). Over-budget candidates score 0: only their
        CV ranks them."""
        top1 = [r['search_top1'] or 0.0 for r in records]
        ratio = [r[f'{self.axis}_ratio'] for r in records]
        objv = np.array([top1] if num_objectives == 1 else [top1, ratio],
                        dtype=float).T
        cv = np.array([self.violation(r) for r in records], dtype=float)
        return objv, cv.reshape(len(records), -1)

    def _cost(self, r):
        return r.get('latency_ms', r['flops'])

    def feasible(self) -> List[dict]:
        """Evaluated records, best first (top-1, then cost, then widths
        and blocks: a deterministic order)."""
        recs = [r for r in self.cache.values()
                if r['search_top1'] is not None]
        return sorted(recs, key=lambda r: (-r['search_top1'], self._cost(r),
                                           r['flops'], r['kept'],
                                           r.get('blocks_removed', [])))

    def pareto(self) -> List[dict]:
        """Non-dominated evaluated records (higher top-1, lower cost:
        predicted latency or FLOPs), by cost."""
        front, best = [], -1.0
        for r in sorted(self.feasible(),
                        key=lambda r: (self._cost(r), -r['search_top1'])):
            if r['search_top1'] > best:
                front.append(r)
                best = r['search_top1']
        return front
