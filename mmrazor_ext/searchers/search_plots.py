"""PNGs of a search: progress per generation, and accuracy vs FLOPs (or
latency) of every evaluated candidate with the Pareto front and the
reference subnets of the same FLOPs (or measured latency)."""
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from ..utils import atomic_write  # noqa: E402


def _save(fig, path):
    atomic_write(path, lambda tmp: fig.savefig(tmp, format='png', dpi=110))
    plt.close(fig)


def plot_progress(history, path: str, title: str = '') -> None:
    """Best and mean search top-1 (feasible candidates) per generation."""
    gens = [h['generation'] for h in history]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(gens, [h['best_top1'] for h in history], 'o-', label='best')
    ax.plot(gens, [h['mean_top1'] for h in history], 's--',
            label='population mean')
    ax.set_xlabel('generation')
    ax.set_ylabel('search top-1 (%)')
    ax.set_title(title or 'HybridSearch progress')
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)


def plot_pareto(candidates, pareto, references, budget: float, path: str,
                best=None, title: str = '', axis: str = 'flops') -> None:
    """Accuracy vs cost: every feasible evaluated candidate, the Pareto
    front, the budget, the best candidate and the reference subnets
    (``references``: ``{'uniform': [points], 'diff': [...]}``, points
    with ``search_top1`` and their cost).

    ``axis='flops'``: FLOPs ratio everywhere. ``axis='latency'``: the
    candidates and the front at their predicted latency ratio, the
    references and the searched subnet at their MEASURED ratio
    (``measured_ratio``, timed interleaved with the unpruned model)."""
    measured = axis == 'latency'
    key = f'{axis}_ratio'
    fig, ax = plt.subplots(figsize=(6, 4))
    if candidates:
        ax.scatter([c[key] for c in candidates],
                   [c['search_top1'] for c in candidates], s=10,
                   c='0.7', label='evaluated' + (' (predicted)' if measured
                                                 else ''))
    if pareto:
        pts = sorted(pareto, key=lambda p: p[key])
        ax.plot([p[key] for p in pts], [p['search_top1'] for p in pts],
                'o-', color='C0', label='Pareto front')
    ref_key = 'measured_ratio' if measured else key
    for (name, points), style in zip(
            sorted((n, p) for n, p in references.items() if n != 'searched'),
            ('^', 'v', 'D', 's')):
        if not points:
            continue
        if measured:  # aimed at the searched latency; say if it missed
            off = [p for p in points if not p.get('within_tolerance', True)]
            label = f'{name} (measured' + (', not within 5%)' if off
                                           else ', within 5%)')
        else:
            label = f'{name} (same FLOPs)'
        ax.scatter([p[ref_key] for p in points],
                   [p['search_top1'] for p in points], marker=style, s=60,
                   label=label, zorder=3)
    if best is not None:
        searched = (references.get('searched') or [None])[0]
        x = searched['measured_ratio'] if measured and searched else \
            best[key]
        ax.scatter([x], [best['search_top1']], marker='*', s=200,
                   color='C3', label='searched' + (' (measured)' if measured
                                                    else ''), zorder=4)
    if budget is not None:
        ax.axvline(budget, color='k', ls=':', label=f'budget {budget:g}')
    ax.set_xlabel('latency / unpruned latency' if measured else
                  'FLOPs / unpruned FLOPs')
    ax.set_ylabel('search top-1 (%)')
    ax.set_title(title or f'HybridSearch: accuracy vs {axis}')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)
