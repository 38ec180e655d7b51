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
    """The cache of a search: kept channels per space -> record.

    A record holds ``kept``, ``genome`` (the first genome met with those
    widths), ``flops``, ``params``, ``flops_ratio`` and ``search_top1``
    (None: over the budget, never evaluated).

    Args:
        space (KeepRatioSpace): Genomes -> widths -> subnets.
        scores (dict): Per-space channel scores (which channels are kept).
        evaluator (callable): ``subnet -> search top-1``.
        budget (float): Most FLOPs a candidate may keep, as a fraction of
            the unpruned model's.
    """

    def __init__(self, space, scores, evaluator: Callable, budget: float):
        self.space, self.scores, self.evaluator = space, scores, evaluator
        self.budget = budget
        self.full_flops = space.pruner.flops_params({})[0]
        self.cache: Dict[Key, dict] = {}

    def subnet(self, key: Key):
        return self.space.subnet(key, self.scores)

    def _record(self, key: Key, genome) -> dict:
        flops, params = self.space.pruner.flops_params(self.subnet(key))
        return dict(kept=list(key), genome=[int(g) for g in genome],
                    flops=flops, params=params,
                    flops_ratio=flops / self.full_flops, search_top1=None)

    def evaluate(self, genomes) -> Tuple[List[dict], dict]:
        """Records of ``genomes`` (one per row) and the generation's
        counts: ``evaluated`` (new, within budget), ``cache_hits``
        (already known, also twice in this generation) and
        ``over_budget`` (new, over the budget: counted, not evaluated)."""
        keys = [self.space.counts(g) for g in genomes]
        new, hits, over = [], 0, 0
        for key, genome in zip(keys, genomes):
            if key in self.cache:
                hits += 1
                continue
            rec = self.cache[key] = self._record(key, genome)
            if rec['flops_ratio'] > self.budget:
                over += 1
            else:
                new.append(key)
        for key, top1 in zip(new, run_shared(
                new, lambda k: self.evaluator(self.subnet(k)))):
            self.cache[key]['search_top1'] = top1
        return [self.cache[k] for k in keys], dict(
            evaluated=len(new), cache_hits=hits, over_budget=over)

    def objectives(self, records, num_objectives: int):
        """geatpy's ``ObjV`` (search top-1; and the FLOPs ratio for two
        objectives) and ``CV`` (FLOPs ratio minus budget: > 0 violates).
        Over-budget candidates score 0: only their CV ranks them."""
        top1 = [r['search_top1'] or 0.0 for r in records]
        ratio = [r['flops_ratio'] for r in records]
        objv = np.array([top1] if num_objectives == 1 else [top1, ratio],
                        dtype=float).T
        cv = (np.array(ratio, dtype=float) - self.budget).reshape(-1, 1)
        return objv, cv

    def feasible(self) -> List[dict]:
        """Evaluated records, best first (top-1, then fewer FLOPs, then
        widths: a deterministic order)."""
        recs = [r for r in self.cache.values()
                if r['search_top1'] is not None]
        return sorted(recs, key=lambda r: (-r['search_top1'], r['flops'],
                                           r['kept']))

    def pareto(self) -> List[dict]:
        """Non-dominated evaluated records (higher top-1, fewer FLOPs),
        by FLOPs."""
        front, best = [], -1.0
        for r in sorted(self.feasible(),
                        key=lambda r: (r['flops'], -r['search_top1'])):
            if r['search_top1'] > best:
                front.append(r)
                best = r['search_top1']
        return front
