"""PNGs of a search: progress per generation, and accuracy vs FLOPs of
every evaluated candidate with the Pareto front and the uniform and
global-ranking (``diff``) subnets of the same FLOPs."""
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
                best=None, title: str = '') -> None:
    """Accuracy vs FLOPs ratio: every feasible evaluated candidate, the
    Pareto front, the budget, the best candidate and the reference
    subnets (``references``: ``{'uniform': [points], 'diff': [...]}``,
    points with ``flops_ratio`` and ``search_top1``)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    if candidates:
        ax.scatter([c['flops_ratio'] for c in candidates],
                   [c['search_top1'] for c in candidates], s=10,
                   c='0.7', label='evaluated')
    if pareto:
        pts = sorted(pareto, key=lambda p: p['flops_ratio'])
        ax.plot([p['flops_ratio'] for p in pts],
                [p['search_top1'] for p in pts], 'o-', color='C0',
                label='Pareto front')
    for (name, points), style in zip(sorted(references.items()),
                                     ('^', 'v', 'D')):
        if points:
            ax.scatter([p['flops_ratio'] for p in points],
                       [p['search_top1'] for p in points], marker=style,
                       s=60, label=f'{name} (same FLOPs)', zorder=3)
    if best is not None:
        ax.scatter([best['flops_ratio']], [best['search_top1']], marker='*',
                   s=200, color='C3', label='searched', zorder=4)
    ax.axvline(budget, color='k', ls=':', label=f'budget {budget:g}')
    ax.set_xlabel('FLOPs / unpruned FLOPs')
    ax.set_ylabel('search top-1 (%)')
    ax.set_title(title or 'HybridSearch: accuracy vs FLOPs')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)
