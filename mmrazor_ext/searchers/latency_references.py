"""What a latency search is compared with: the searched subnet and three
references at the same MEASURED latency, all exported and each timed
beside the unpruned model on the table's runtime.

- ``uniform``: the same keep ratio in every space;
- ``diff``: the pruner's global ranking of channels (``sample_subnet_diff``);
- ``blocks``: Fusion's block removal alone (blocks ranked by its
  ``block_metric``, the least important removed first), widths whole;
- ``searched``: the search's best.

Each reference is first chosen by predicted latency, then measured beside
the unpruned model (``latency_timing.py``); one that lands more than
``tolerance`` away from the searched subnet's measured latency (both as
fractions of the unpruned model timed in their pairs) is chosen again at
a target corrected by what was measured, up to ``tries`` times. Whether
it ended within the tolerance is stated.
"""
import tempfile
from typing import Callable, Dict, List, Optional, Tuple

from ..engine.latency import machine_load
from ..fusion import removal_order
from ..metrics import collect_statistics
from .latency_candidates import candidate_model
from .latency_timing import PairTimer

Choice = Tuple[Dict[str, list], List[str]]  # (subnet, blocks removed)


def _bisect(make: Callable[[float], Choice], predict, target: float
            ) -> Choice:
    """The choice of ``make(r)`` (r: fraction removed, in [0, 0.999])
    whose predicted latency is the largest not above ``target`` (the
    smallest one when none is)."""
    lo, hi = 0.0, 0.999
    best = make(hi)
    for _ in range(20):
        mid = (lo + hi) / 2
        choice = make(mid)
        if predict(choice) <= target:
            best, hi = choice, mid
        else:
            lo = mid
    return best


def block_order(searcher, split) -> List[str]:
    """The removable blocks, least important first, as Fusion ranks them
    (its ``block_metric`` on training batches)."""
    names = searcher.space.block_names
    if not names:
        return []
    batches = split.train_batches(searcher.num_batches, searcher.batch_size,
                                  seed=searcher.seed + 2)
    coll = collect_statistics(searcher.model, searcher.block_metric,
                              batches, layers=names, sync=False)
    scores = {n: float(c.compute().reshape(-1)[0]) for n, c in coll.items()}
    return removal_order(searcher.space.blocks, scores, False)


class ReferenceChooser:
    """Chooses each reference at a predicted latency target."""

    def __init__(self, searcher, pool, order: List[str]):
        self.searcher, self.pool, self.order = searcher, pool, order
        self.pruner = searcher.pruner

    def predict(self, choice: Choice) -> float:
        sub, removed = choice
        return self.pool.latency.predict(self.pruner.keep_vector(sub),
                                         removed)

    def choose(self, name: str, target: float) -> Choice:
        scores, pr = self.pool.scores, self.pruner
        if name == 'uniform':
            return _bisect(lambda r: (pr.sample_subnet_uniform(r, scores),
                                      []), self.predict, target)
        if name == 'diff':
            return _bisect(lambda r: (pr.sample_subnet_diff(r, scores), []),
                           self.predict, target)
        full = {n: list(range(k)) for n, k in
                zip(self.searcher.space.names, self.searcher.space.sizes)}
        removed = []
        for block in self.order:  # Fusion's latency target: a prefix
            if self.predict((full, removed)) <= target:
                break
            removed = removed + [block]
        return full, removed


def measure(searcher, models: dict, folder: str) -> Tuple[dict, dict]:
    """Latency (ms) and fraction of the unpruned model of each of
    ``models``, each timed beside the unpruned model on the table's
    runtime (``latency_timing.py``), and the load."""
    d = searcher.latency_table.data
    load = machine_load()
    timer = PairTimer(candidate_model(searcher.pruner,
                                      searcher.space.blocks, {}, []),
                      searcher.pruner.input_shape, d['runtime'],
                      d['threads'], d['batch'], folder,
                      searcher.latency_cfg['validate_time'])
    return timer.measure(models), load


def measured_references(searcher, pool, best: dict, split,
                        tolerance: float = 0.05, tries: int = 3,
                        log: Optional[Callable] = None):
    """``(best's measured ms, {name: [point]})`` for the searched subnet
    and the references (see the module doc); each point has ``name``,
    ``kept``, ``blocks_removed``, ``flops``, ``flops_ratio``,
    ``latency_ms`` (``predicted``, ``measured``), ``measured_ratio``,
    ``within_tolerance``, ``search_top1``."""
    space = searcher.space
    chooser = ReferenceChooser(searcher, pool, block_order(searcher, split))
    best_sub = pool.subnet(best['kept'])
    best_removed = best.get('blocks_removed') or []
    choices = {'searched': (best_sub, best_removed)}
    target = {n: best['latency_ms'] for n in ('uniform', 'diff', 'blocks')}
    measured, ratio, offs = {}, {}, {'searched': 0.0}
    todo = list(target)
    for attempt in range(tries):
        for name in todo:
            choices[name] = chooser.choose(name, target[name])
        names = ['searched'] + todo
        models = {name: candidate_model(searcher.pruner, space.blocks,
                                        *choices[name]) for name in names}
        with tempfile.TemporaryDirectory(prefix='references_') as folder:
            got, load = measure(searcher, models, folder)
        ms = {n: v['ms'] for n, v in got.items()}
        for name in names:
            measured.setdefault(name, []).append(ms[name])
            ratio[name] = got[name]['ratio']
        off = {n: ratio[n] / ratio['searched'] - 1 for n in todo}
        offs.update(off)
        if log:
            log(f'references, measurement {attempt + 1} (load '
                f'{load["load_average"]}): searched '
                f'{ms["searched"]:.3f} ms; ' + ', '.join(
                    f'{n} {ms[n]:.3f} ms ({off[n]:+.1%})' for n in todo))
        todo = [n for n in todo if abs(off[n]) > tolerance]
        for n in todo:  # aim where the measured latency says to
            target[n] = chooser.predict(choices[n]) / (1 + off[n])
        if not todo:
            break
    out = {}
    for name, (sub, removed) in choices.items():
        flops, params = searcher.pruner.flops_params(sub, without=removed)
        rec = pool.record([len(sub[n]) for n in space.names], removed)
        out[name] = [dict(
            name=name, kept=rec['kept'], blocks_removed=list(removed),
            subnet=sub,
            flops=flops, params=params, flops_ratio=rec['flops_ratio'],
            latency_ms=dict(predicted=rec['latency_ms'],
                            measured=measured[name][-1]),
            measured_ratio=ratio[name],
            off_searched=round(offs[name], 4),
            within_tolerance=abs(offs[name]) <= tolerance,
            search_top1=best['search_top1'] if name == 'searched'
            else pool.evaluator(sub, removed))]
    return measured['searched'][-1], out
