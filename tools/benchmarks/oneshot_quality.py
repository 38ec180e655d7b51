"""OneShot quality on the embedded digits: metrics x FLOPs targets x modes.

Every row prunes the same trained ResNet-20 (the main job's) and fine-tunes
it with the same budget; top-1 right after pruning, after BN recalibration
and after fine-tuning, mean (and spread) over seeds. With ``--same-widths``
each metric row gets a partner ``random@ROW``: the same per-space kept
counts as the metric's subnet (same seed), channels drawn at random, the
same BN recalibration and fine-tuning. Results go to a JSON file run by
run, so an interrupted benchmark continues where it stopped; the table is
printed at the end (or alone with ``--table``).

    python tools/benchmarks/oneshot_quality.py --epochs 5 --seeds 0 1 2
    python tools/benchmarks/oneshot_quality.py --epochs 3 --targets 0.5 \
        --modes uniform --metrics L1 L1-coupled --same-widths
"""
import argparse
import contextlib
import io
import itertools
import json
import os.path as osp
import statistics
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs/one_shot/'
                  'one-shot-cdp_cifar-resnet20_1xb64_digits.py')
METRICS = {'random': 'RandomMetric', 'L1': 'L1Metric', 'FPGM': 'FPGMMetric',
           'HRank': 'HRankMetric', 'CDP': 'CDPMetric',
           'L1-coupled': 'L1Metric', 'CDP-minmax': 'CDPMetric',
           'CDP-standard': 'CDPMetric', 'CDP-rank': 'CDPMetric',
           'CDP-max': 'CDPMetric', 'L1-rank': 'L1Metric',
           'HRank-rank': 'HRankMetric', 'CDP-d1': 'CDPMetric',
           'CDP-d8': 'CDPMetric', 'CDP-d32': 'CDPMetric'}
# ChannelPruner options of a row (the default pruner otherwise). CDP-max:
# CDP's global ranking by magnitude, the default before issue 23 (scores
# divided by their largest magnitude; 'auto' picked 'minmax' for signed
# ones, which the rows run so far never had).
PRUNER_OPTIONS = {
    'L1-coupled': dict(score_members='coupled', score_reduce='sum',
                       score_norm='none'),
    'CDP-minmax': dict(diff_norm='minmax', min_keep_fraction=0.25),
    'CDP-standard': dict(diff_norm='standard', min_keep_fraction=0.25),
    'CDP-rank': dict(diff_norm='rank'), 'CDP-max': dict(diff_norm='max'),
    'L1-rank': dict(diff_norm='rank'), 'HRank-rank': dict(diff_norm='rank'),
    # width rounding (issue 19): the default divisor is 16
    'CDP-d1': dict(divisor=1), 'CDP-d8': dict(divisor=8),
    'CDP-d32': dict(divisor=32)}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--pretrained', default=osp.join(
        ROOT, 'work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth'),
        help='trained ResNet-20 (scripts/main_job.sh makes it)')
    p.add_argument('--epochs', type=int, default=5,
                   help='fine-tuning epochs of every row')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--metrics', nargs='+', default=list(METRICS),
                   choices=list(METRICS))
    p.add_argument('--targets', type=float, nargs='+', default=[0.5, 0.75],
                   help='fractions of FLOPs removed')
    p.add_argument('--modes', nargs='+', default=['uniform', 'diff'])
    p.add_argument('--same-widths', action='store_true',
                   help='also run random@ROW for every metric row')
    p.add_argument('--rows', nargs='+', default=None, metavar='T:MODE:ROW',
                   help="explicit rows, e.g. 0.75:diff:CDP "
                   "0.75:diff:random@CDP (instead of the product)")
    p.add_argument('--out', default=osp.join(
        ROOT, 'work_dirs/oneshot_quality.json'))
    p.add_argument('--table', action='store_true',
                   help='only print the table of --out')
    return p.parse_args()


def same_widths(algo, seed):
    """Make ``algo`` keep, in each space, as many channels as its metric's
    subnet, drawn at random from ``seed``."""
    import torch
    choose = algo.choose_subnet

    def random_subnet(step, scores):
        subnet, gen = choose(step, scores), torch.Generator()
        gen.manual_seed(seed)
        return {sp.name: sorted(torch.randperm(
            sp.num_channels, generator=gen)[:len(subnet[sp.name])].tolist())
            for sp in algo.pruner.prunable_spaces}
    algo.choose_subnet = random_subnet


def run_one(args, row, target, mode, seed):
    from mmcls.apis import set_random_seed
    from mmcls.datasets import build_dataset
    from mmrazor_ext.apis import build_model, load_config, train_model
    cfg = load_config(CONFIG)
    metric = row.split('@')[-1]
    metric_cfg = dict(type=METRICS[metric])
    if METRICS[metric] == 'CDPMetric':
        metric_cfg['num_classes'] = 10
    cfg.algorithm.pruner.update(PRUNER_OPTIONS.get(metric, {}))
    if metric == 'random':
        metric_cfg['seed'] = seed
    # --targets are FLOPs removed (the table's column); the budget is kept
    for key, value in dict(pretrained=args.pretrained, metric=metric_cfg,
                           budget=dict(flops=round(1 - target, 12)),
                           mode=mode, seed=seed).items():
        cfg.algorithm[key] = value  # replaced, not merged
    cfg.runner.max_epochs = args.epochs
    cfg.custom_hooks = [dict(type='PruningHook', latency_batch_sizes=())]
    cfg.checkpoint_config = dict(interval=10 ** 6, save_last=False)
    cfg.device, cfg.gpu_ids, cfg.seed = 'cpu', range(1), seed
    set_random_seed(seed)
    with contextlib.redirect_stdout(io.StringIO()):
        algo = build_model(cfg)
    if row.startswith('random@'):
        same_widths(algo, seed)
    with tempfile.TemporaryDirectory() as work_dir:
        cfg.work_dir = work_dir
        train_model(algo, [build_dataset(cfg.data.train)], cfg,
                    validate=False)
    rec = algo.record
    subnet = algo.pruner.get_subnet()
    return dict(metric=row, target=target, mode=mode, seed=seed,
                widths=[len(subnet[n]) for n in algo.pruner.space_names()],
                params_ratio=rec['steps'][-1]['params'] / algo.full_params,
                before=rec['before_pruning']['top-1'],
                pruned=rec['after_pruning']['top-1'],
                recalibrated=rec['after_recalibration']['top-1'],
                finetuned=rec['after_finetune']['top-1'],
                flops_ratio=rec['steps'][-1]['flops'] / algo.full_flops)


def table(results):
    groups = {}
    for r in results:
        groups.setdefault((r['target'], r['mode'], r['metric']), []).append(r)
    before = statistics.mean(r['before'] for r in results)
    lines = [f'unpruned top-1: {before:.2f} (mean of all rows)', '',
             '| FLOPs removed | mode | metric | seeds | FLOPs kept | '
             'params kept | fewest kept (space) | top-1 pruned | '
             '+ BN recalibration | fine-tuned |',
             '|---|---|---|---|---|---|---|---|---|---|']
    order = list(METRICS)

    def rank(name):
        base = name.split('@')[-1]
        return (order.index(base) if base in order else len(order),
                name.startswith('random@'))
    for key in sorted(groups, key=lambda k: (k[0], k[1], rank(k[2]))):
        rows = groups[key]

        def fmt(name):
            return mean_std([r[name] for r in rows])
        kept = statistics.mean(r['flops_ratio'] for r in rows)
        params = ('{:.1%}'.format(statistics.mean(
            r['params_ratio'] for r in rows)) if all(
            'params_ratio' in r for r in rows) else '')
        fewest = (str(min(min(r['widths']) for r in rows))
                  if all('widths' in r for r in rows) else '')
        lines.append(f'| {key[0]:.0%} | {key[1]} | {key[2]} | {len(rows)} | '
                     f'{kept:.1%} | {params} | {fewest} | {fmt("pruned")} | '
                     f'{fmt("recalibrated")} | {fmt("finetuned")} |')
    return '\n'.join(lines)


def mean_std(vals) -> str:
    """``'mean ± std'`` of ``vals`` (std 0 for one value)."""
    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return f'{statistics.mean(vals):.2f} ± {sd:.2f}'


def start(args, tool: str, results_file: bool = True) -> list:
    """The results so far in ``args.out`` (when ``results_file``); unless
    only the table is asked for, check that the trained model is there,
    put this checkout first on the path and quiet mmcls's logger."""
    results = (json.load(open(args.out)) if results_file and
               osp.exists(args.out) else [])
    if not getattr(args, 'table', False):
        if not osp.isfile(args.pretrained):
            sys.exit(f'{tool}: error: {args.pretrained} not found; run '
                     'scripts/main_job.sh first')
        sys.path.insert(0, ROOT)
        from mmcls.utils import get_root_logger
        get_root_logger(log_level='WARNING')
    return results


def main():
    args = parse_args()
    results = start(args, 'oneshot_quality.py')
    if not args.table:
        from mmrazor_ext.utils import write_json
        done = {(r['metric'], r['target'], r['mode'], r['seed'])
                for r in results}
        # seed outermost: an early stop still has whole seeds
        if args.rows:
            rows = [(r.split(':')[2], float(r.split(':')[0]), r.split(':')[1])
                    for r in args.rows]
        else:
            names = args.metrics + ([f'random@{m}' for m in args.metrics
                                     if m != 'random']
                                    if args.same_widths else [])
            rows = list(itertools.product(names, args.targets, args.modes))
        for m, _, _ in rows:
            if m.split('@')[-1] not in METRICS:
                sys.exit(f'oneshot_quality.py: error: unknown row {m!r}')
        todo = [(m, t, mode, seed) for seed, (m, t, mode) in
                itertools.product(args.seeds, rows)
                if (m, t, mode, seed) not in done]
        for i, key in enumerate(todo):
            t0 = time.time()
            results.append(run_one(args, *key))
            r = results[-1]
            print(f'[{i + 1}/{len(todo)}] {key}: pruned {r["pruned"]:.2f}, '
                  f'BN recalibrated {r["recalibrated"]:.2f}, '
                  f'fine-tuned {r["finetuned"]:.2f} '
                  f'({time.time() - t0:.0f} s)', flush=True)
            write_json(results, args.out)
    print(table(results))


if __name__ == '__main__':
    main()
