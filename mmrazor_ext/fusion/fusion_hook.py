"""FusionHook: :class:`PruningHook` with Fusion's files: the block
importance scores (JSON and a bar chart per block in forward order) and
the depth of the unpruned and exported models in the report."""
import os.path as osp

from mmcv.runner import HOOKS

from ..engine import PruningHook, build_loader, evaluate
from ..utils import atomic_write, rank, write_json
from .bn_folding import fold_bn


def plot_scores(scores: dict, path: str, title: str) -> None:
    """Bar chart of ``{name: score}`` (in the given order), atomically."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(max(4, 0.35 * len(scores)), 3.2))
    ax.bar(range(len(scores)), list(scores.values()))
    ax.set_xticks(range(len(scores)))
    ax.set_xticklabels([n.replace('backbone.', '') for n in scores],
                       rotation=90, fontsize=7)
    ax.set_ylabel('importance')
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format='png'))
    plt.close(fig)


@HOOKS.register_module()
class FusionHook(PruningHook):
    """:class:`PruningHook` writing ``fusion_report.json``,
    ``fused_model.pth``, ``deploy_model.pth`` (BN folded) and, after the
    scoring step, ``block_scores.json`` / ``block_scores.png``.

    Args:
        scores (str): File name of the block scores JSON (the plot takes
            the same name with ``.png``).
        **kwargs: :class:`PruningHook`'s arguments.
    """

    KIND = 'fused'

    def __init__(self, report='fusion_report.json',
                 exported='fused_model.pth', scores='block_scores.json',
                 **kwargs):
        super().__init__(report=report, exported=exported, **kwargs)
        self.scores_name = scores

    def before_run(self, runner):
        """With ``runner.max_epochs=0``: fuse from the trained weights and
        export without fine-tuning (the step runs here)."""
        super().before_run(runner)
        algo = self.algorithm(runner)
        if runner.max_epochs == 0 and int(algo.steps_done) == 0:
            self.before_train_epoch(runner)

    def after_run(self, runner):
        """Also the val accuracy of the deploy model (merged, BN folded)
        when chains were merged: the report's last row (every rank
        evaluates, as training does)."""
        algo = self.algorithm(runner)
        if algo.data is not None and algo.do_evaluate and \
                hasattr(algo, 'unpruned_model') and algo.linear_names():
            deploy, _ = fold_bn(algo.export_model(), algo.pruner.input_shape)
            algo.record['merged'] = evaluate(
                deploy, build_loader(algo.data, 'val'))
        super().after_run(runner)

    def before_train_epoch(self, runner):
        algo = self.algorithm(runner)
        done = int(algo.steps_done)
        super().before_train_epoch(runner)
        if done == 0 and int(algo.steps_done) and rank() == 0:
            self.write_scores(runner, algo)

    def write_scores(self, runner, algo):
        rec, metric = algo.record, algo.block_metric
        data = dict(metric=metric.get('type') if isinstance(metric, dict)
                    else str(metric),
                    num_batches=algo.num_batches,
                    blocks=rec.get('block_scores') or {},
                    chains=rec.get('chain_scores') or {},
                    removed=algo.removed_names(),
                    linearised=algo.linear_names())
        path = osp.join(runner.work_dir, self.scores_name)
        write_json(data, path)
        for key, what in (('blocks', 'residual blocks'),
                          ('chains', 'nonlinearities')):
            if data[key]:
                suffix = '' if key == 'blocks' else '_chains'
                plot_scores(data[key], path[:-5] + suffix + '.png',
                            f'{data["metric"]}: {what} (forward order)')

    def report(self, runner, algo, exported, deploy=None) -> dict:
        out = super().report(runner, algo, exported, deploy)
        if hasattr(algo, 'unpruned_model'):  # weight layers run per forward
            depth = algo.pruner.trace_graph(algo.unpruned_model()).depth()
            out['depth'] = dict(
                unpruned=depth,
                exported=algo.pruner.trace_graph(exported).depth())
            out['blocks'] = dict(unpruned=len(algo.blocks),
                                 kept=len(algo.blocks) - len(
                                     algo.removed_names()))
        return out
