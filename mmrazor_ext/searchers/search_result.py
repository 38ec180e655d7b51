"""What a finished search leaves: the JSON's content (best subnet,
Pareto front, references of the same FLOPs or measured latency, history)
and its PNGs."""
import os.path as osp

from ..utils import broadcast_object, rank
from .candidate_pool import run_shared
from .latency_references import measured_references


def reference_top1(result, name):
    """Search top-1 of the first ``name`` reference, as text."""
    points = result['references'].get(name) or []
    return f'{points[0]["search_top1"]:.2f}' if points else '-'


def references(searcher, pool, targets):
    """Uniform and diff subnets at each FLOPs ratio of ``targets``,
    evaluated like the candidates."""
    jobs = [(mode, t) for t in targets for mode in ('uniform', 'diff')]

    def evaluate(job):
        mode, ratio = job
        sub = searcher.pruner.sample_subnet_flops(
            min(max(1 - ratio, 0.0), 0.999), pool.scores, mode=mode)
        flops, params = searcher.pruner.flops_params(sub)
        return dict(name=mode, flops=flops, params=params,
                    flops_ratio=flops / pool.full_flops,
                    search_top1=pool.evaluator(sub),
                    kept=[len(sub[n]) for n in searcher.space.names])

    out = dict(uniform=[], diff=[])
    for (mode, _), point in zip(jobs, run_shared(jobs, evaluate)):
        out[mode].append(point)
    return out


def build_result(searcher, pool, split, history, eval_seconds,
                 seconds) -> dict:
    """The search JSON's content."""
    feasible = pool.feasible()
    if not feasible:
        raise RuntimeError('no candidate within the FLOPs budget was '
                           'evaluated; raise population or generations')
    best = dict(feasible[0])
    best['subnet'] = pool.subnet(best['kept'])
    best['keep_ratios'] = searcher.space.keep_ratios(best['genome'])
    best['blocks_removed'] = best.get('blocks_removed') or []
    pareto = pool.pareto()
    extra = {}
    if pool.latency is not None:  # references at equal measured latency
        measured, refs = None, None
        if rank() == 0:
            measured, refs = measured_references(
                searcher, pool, best, split,
                tries=searcher.latency_cfg['tries'], log=searcher.say)
        measured, refs = broadcast_object((measured, refs))
        best['latency_ms'] = dict(predicted=best['latency_ms'],
                                  measured=measured)
        best['latency_measured_ratio'] = refs['searched'][0][
            'measured_ratio']
        extra['latency_model'] = pool.latency.summary()
    else:
        targets = [best['flops_ratio']]
        if searcher.ea == 'NSGA2':  # a few more points along the front
            step = max(1, len(pareto) // 3)
            targets += [p['flops_ratio'] for p in pareto[::step]
                        if p is not feasible[0]][:3]
        refs = references(searcher, pool, targets)
    evaluated = sum(h['evaluated'] for h in history)
    return dict(**extra,
        checkpoint=osp.abspath(searcher.checkpoint), config=searcher.config,
        model=dict(spaces=dict(zip(searcher.space.names,
                                   searcher.space.sizes)),
                   flops=pool.full_flops,
                   params=searcher.pruner.flops_params({})[1],
                   input_shape=list(searcher.pruner.input_shape)),
        settings=searcher.settings(), split=split.describe(), best=best,
        pareto=pareto, references=refs,
        history=history, evaluated=evaluated,
        cache_hits=sum(h['cache_hits'] for h in history),
        over_budget=sum(h['over_budget'] for h in history),
        candidates=feasible, eval_seconds=round(eval_seconds, 2),
        candidates_per_minute=round(60 * evaluated /
                                    max(eval_seconds, 1e-9), 1),
        seconds=round(seconds, 2), work_dir=osp.abspath(searcher.work_dir))


def save_plots(searcher, result) -> None:
    """Progress and Pareto PNGs in the work dir."""
    from .search_plots import plot_pareto, plot_progress  # matplotlib
    axis = 'latency' if 'latency_model' in result else 'flops'
    title = (f'{searcher.ea}, budget {searcher._describe_budget()}, '
             f'{osp.basename(searcher.checkpoint)}')
    plot_progress(result['history'],
                  osp.join(searcher.work_dir, 'search_progress.png'), title)
    plot_pareto(result['candidates'], result['pareto'],
                result['references'], searcher.budget.get(axis),
                osp.join(searcher.work_dir, 'search_pareto.png'),
                best=result['best'], title=title, axis=axis)
