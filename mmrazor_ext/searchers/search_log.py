"""What a search says as it runs: the history entry and the log line of
each generation, and the summary of the result."""


from .search_result import reference_top1


def summary(searcher, result) -> str:
    """The search's last line: the best and its references."""
    best = result['best']
    if 'latency_ms' in best:
        ms = best['latency_ms']
        cost = (f'predicted {ms["predicted"]:.3f} ms, measured '
                f'{ms["measured"]:.3f} ms on '
                f'{result["latency_model"]["runtime"]}, '
                f'{len(best.get("blocks_removed") or [])} blocks '
                'removed')
        same = 'at the same measured latency'
    else:
        cost = f'{best["flops_ratio"]:.1%} of the FLOPs'
        same = 'at the same FLOPs'
    refs = ', '.join(f'{n} {reference_top1(result, n)}'
                     for n in result['references'] if n != 'searched')
    return (f'best: search top-1 {best["search_top1"]:.2f} at {cost} '
            f'({refs} {same}); written to {searcher.json_path}')


def generation_entry(searcher, gen, evo, pool, counts, seconds) -> dict:
    """The history entry of generation ``gen``."""
    feasible = pool.feasible()
    pop = [r for r in (pool.cache[searcher.space.counts(g)]
                       for g in evo.chrom)
           if r['search_top1'] is not None]
    best = feasible[0] if feasible else None
    entry = dict(
        generation=gen, population=len(evo.chrom), **counts,
        best_top1=best['search_top1'] if best else None,
        best_flops_ratio=best['flops_ratio'] if best else None,
        mean_top1=(sum(r['search_top1'] for r in pop) / len(pop)
                   if pop else None),
        seconds=round(seconds, 2))
    if pool.latency is not None:
        entry['best_latency_ratio'] = best['latency_ratio'] \
            if best else None
    return entry


def log_generation(searcher, h, history) -> None:
    """One line per generation, with the ETA."""
    per_gen = sum(x['seconds'] for x in history) / len(history)
    eta = per_gen * (searcher.generations - h['generation'])
    cost = (f'latency {h["best_latency_ratio"]:.1%}'
            if h.get('best_latency_ratio') is not None else
            f'FLOPs {h["best_flops_ratio"]:.1%}'
            if h['best_top1'] is not None else '')
    best = ('none within the budget yet' if h['best_top1'] is None else
            f'{h["best_top1"]:.2f} ({cost})')
    mean = '-' if h['mean_top1'] is None else f'{h["mean_top1"]:.2f}'
    searcher.say(f'generation {h["generation"]}/{searcher.generations}: '
             f'{h["evaluated"]} evaluated, {h["cache_hits"]} cache hits, '
             f'{h["over_budget"]} over budget; best search top-1 {best}, '
             f'population mean {mean}; {h["seconds"]:.1f} s, ETA '
             f'{eta:.0f} s')
