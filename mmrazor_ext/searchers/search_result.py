"""What a finished search leaves: the JSON's content (best subnet,
Pareto front, uniform / diff references of the same FLOPs, history) and
its PNGs."""
import os.path as osp

from .candidate_pool import run_shared


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
        return dict(flops=flops, params=params,
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
    best['subnet'] = pool.subnet(tuple(best['kept']))
    best['keep_ratios'] = searcher.space.keep_ratios(best['genome'])
    pareto = pool.pareto()
    targets = [best['flops_ratio']]
    if searcher.ea == 'NSGA2':  # a few more points along the front
        step = max(1, len(pareto) // 3)
        targets += [p['flops_ratio'] for p in pareto[::step]
                    if p is not feasible[0]][:3]
    evaluated = sum(h['evaluated'] for h in history)
    return dict(
        checkpoint=osp.abspath(searcher.checkpoint), config=searcher.config,
        model=dict(spaces=dict(zip(searcher.space.names,
                                   searcher.space.sizes)),
                   flops=pool.full_flops,
                   params=searcher.pruner.flops_params({})[1],
                   input_shape=list(searcher.pruner.input_shape)),
        settings=searcher.settings(), split=split.describe(), best=best,
        pareto=pareto, references=references(searcher, pool, targets),
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
    title = (f'{searcher.ea}, FLOPs budget {searcher.flops_kept:g}, '
             f'{osp.basename(searcher.checkpoint)}')
    plot_progress(result['history'],
                  osp.join(searcher.work_dir, 'search_progress.png'), title)
    plot_pareto(result['candidates'], result['pareto'],
                result['references'], searcher.flops_kept,
                osp.join(searcher.work_dir, 'search_pareto.png'),
                best=result['best'], title=title)
