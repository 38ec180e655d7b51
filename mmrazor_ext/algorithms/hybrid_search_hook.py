"""HybridSearchHook: the train stage's report, with the latency the search
predicted and measured for the subnet beside the latency measured now on
the trained, exported model (the runtime rows of the report), and whether
it keeps the search's latency budget."""
from mmcv.runner import HOOKS

from ..fusion import FusionHook

#: A latency measured at most this much above the budget keeps it.
TOLERANCE = 0.05


def latency_check(report: dict, search: dict, tolerance: float = TOLERANCE
                  ) -> dict:
    """The report's ``latency_check``: on the search's runtime and batch,
    the exported model's measured latency as a fraction of the unpruned
    model's (both timed now, interleaved), the search's predicted and
    measured fractions, the budget, and ``within_budget`` (measured <=
    budget * (1 + tolerance)). Empty when the search had no latency model
    or the report has no row of its runtime and batch."""
    model = search.get('latency_model') or {}
    runtime, batch = model.get('runtime'), model.get('batch')
    if runtime is None:
        return {}
    rows = report.get('latency_ms', {}) if runtime == 'torch' else \
        report.get('runtime_latency_ms', {}).get(runtime, {})
    row = rows.get(f'batch_{batch}')
    if not row:
        return {}
    best = search['best']
    budget = (search.get('settings') or {}).get('budget', {}).get('latency')
    # the first quartile of the runs, as the search measured its latency
    iqr = row.get('iqr') or {}
    low = {k: iqr[k][0] if k in iqr else row[k]
           for k in ('unpruned', 'exported')}
    ratio = low['exported'] / low['unpruned']
    return dict(runtime=runtime, batch=batch, budget=budget,
                tolerance=tolerance, statistic='first quartile',
                unpruned_ms=low['unpruned'], exported_ms=low['exported'],
                measured_ratio=ratio,
                search_predicted_ms=best['latency_ms']['predicted'],
                search_measured_ms=best['latency_ms']['measured'],
                search_predicted_ratio=best.get('latency_ratio'),
                search_measured_ratio=best.get('latency_measured_ratio'),
                within_budget=None if budget is None else
                ratio <= budget * (1 + tolerance),
                reliable=row.get('reliable'), caveat=row.get('caveat'))


@HOOKS.register_module()
class HybridSearchHook(FusionHook):
    """:class:`FusionHook` for HybridSearch: ``hybrid_search_report.json``
    (with the depth and blocks kept, as Fusion's, and the latency check
    of a latency search), ``pruned_model.pth``; no block scores (the
    search chose the blocks)."""

    def __init__(self, report='hybrid_search_report.json',
                 exported='pruned_model.pth', **kwargs):
        super().__init__(report=report, exported=exported, **kwargs)

    def write_scores(self, runner, algo):
        """Nothing: no block was scored."""

    def report(self, runner, algo, exported, deploy=None) -> dict:
        out = super().report(runner, algo, exported, deploy)
        check = latency_check(out, algo.search)
        if check:
            out['latency_check'] = check
            within = check['within_budget']
            verdict = '' if within is None else (
                ', within the budget' if within else
                f', OVER the budget {check["budget"]:g} (+'
                f'{check["tolerance"]:.0%} tolerance)')
            runner.logger.info(
                f'HybridSearch: {check["runtime"]} latency, batch '
                f'{check["batch"]}: predicted by the search '
                f'{check["search_predicted_ms"]:.3f} ms, measured at the '
                f'search {check["search_measured_ms"]:.3f} ms, measured '
                f'now {check["exported_ms"]:.3f} ms = '
                f'{check["measured_ratio"]:.1%} of the unpruned '
                f'{check["unpruned_ms"]:.3f} ms{verdict}')
        return out
