"""AutoSlim against OneShot on the embedded digits, same FLOPs, same
training epochs after the choice of widths.

Per seed: AutoSlim's three stages with the repository's configs, as a user
runs them (``tools/train.py`` supernet, ``tools/search.py`` greedy search
at ``--removed`` of the supernet's FLOPs, ``tools/train.py`` retraining of
the searched widths from scratch for ``--epochs``); then OneShot rows
(``oneshot_quality.py``'s runs: the main job's trained ResNet-20, pruned
with the global ranking to the FLOPs the search reached, as this
package's pruner counts them, and fine-tuned for the same ``--epochs``).
``--from-scratch`` adds the widths of OneShot's L1 global
ranking at the same FLOPs trained from scratch like AutoSlim's subnet.
Results go to a JSON run by run (an interrupted run continues); the table
is printed at the end (or alone with ``--table``).

    python tools/benchmarks/autoslim_quality.py --seeds 0 1 2
"""
import argparse
import glob
import json
import os.path as osp
import re
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs', 'autoslim')
STAGE_CONFIG = osp.join(CONFIGS, 'autoslim-{}_cifar-resnet20_1xb64_digits.py')
# oneshot_quality.py beside this file (the script's folder is first on
# sys.path): its runs, table format and start-up
import oneshot_quality as ONESHOT  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--pretrained', default=osp.join(
        ROOT, 'work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth'),
        help='trained ResNet-20 of the OneShot rows (scripts/main_job.sh)')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--removed', type=float, default=0.5,
                   help='fraction of the supernet FLOPs the search removes')
    p.add_argument('--supernet-epochs', type=int, default=10)
    p.add_argument('--epochs', type=int, default=8,
                   help='AutoSlim retraining = OneShot fine-tuning epochs')
    p.add_argument('--metrics', nargs='+', default=['L1', 'CDP'],
                   help='OneShot rows (oneshot_quality.py metric names)')
    p.add_argument('--from-scratch', action='store_true',
                   help='also train the L1 diff widths from scratch')
    p.add_argument('--work-root', default=osp.join(
        ROOT, 'work_dirs/autoslim_quality'))
    p.add_argument('--out', default=osp.join(
        ROOT, 'work_dirs/autoslim_quality.json'))
    p.add_argument('--table', action='store_true',
                   help='only print the table of --out')
    return p.parse_args()


def tool(name, *argv):
    """Run ``tools/{name}.py`` as a command; ``(seconds, its output)``."""
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', f'{name}.py'),
         *map(str, argv)], check=True, cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout
    return time.time() - t0, out


def last_val_top1(work_dir):
    """The last ``accuracy_top-1`` of the newest mmcv json log."""
    log = sorted(glob.glob(osp.join(work_dir, '*.log.json')))[-1]
    rows = [json.loads(line) for line in open(log)]
    return [r for r in rows if r.get('mode') == 'val'][-1]['accuracy_top-1']


def pruner_flops_ratio(channel_cfg):
    """FLOPs of ``channel_cfg``'s widths over the unpruned model's, as
    this package's pruner counts them (what OneShot's target means)."""
    import mmcv
    from mmcls.models import build_classifier
    from mmrazor.models.builder import build_pruner

    from mmrazor_ext.apis import load_config
    cfg = load_config(STAGE_CONFIG.format('supernet'))
    model = build_classifier(cfg.model)
    pruner = build_pruner(cfg.algorithm.pruner)  # the supernet's
    pruner.prepare_from_supernet(model)
    subnet = pruner._subnet_from_cfg(mmcv.load(channel_cfg))
    return pruner.flops_params(subnet)[0] / pruner.flops_params({})[0]


def autoslim(args, seed):
    root = osp.join(args.work_root, f'seed{seed}')
    dirs = {s: osp.join(root, s) for s in ('supernet', 'search', 'subnet')}
    secs = {}
    secs['supernet'], _ = tool(
        'train', STAGE_CONFIG.format('supernet'), '--work-dir',
        dirs['supernet'], '--seed', seed, '--cfg-options',
        f'runner.max_epochs={args.supernet_epochs}')
    secs['search'], log = tool(
        'search', STAGE_CONFIG.format('search'),
        osp.join(dirs['supernet'], 'latest.pth'), '--work-dir',
        dirs['search'], '--cfg-options',
        f'searcher.budget.flops=[{1 - args.removed}]')
    found = json.load(open(osp.join(dirs['search'],
                                    'search_results.json')))[0]
    secs['retrain'], _ = tool(
        'train', STAGE_CONFIG.format('subnet'), '--work-dir', dirs['subnet'],
        '--seed', seed, '--cfg-options',
        f'algorithm.channel_cfg={found["channel_cfg"]}',
        f'runner.max_epochs={args.epochs}')
    return dict(method='AutoSlim', seed=seed,
                supernet_top1=last_val_top1(dirs['supernet']),
                searched=float(re.findall(
                    r'Greedy find model, score: ([\d.]+)', log)[-1]),
                finetuned=last_val_top1(dirs['subnet']),
                flops_ratio=pruner_flops_ratio(found['channel_cfg']),
                autoslim_flops=found['flops'], seconds=secs)


def l1_widths_from_scratch(args, seed, flops_ratio):
    """The widths OneShot's L1 global ranking keeps at ``flops_ratio`` of
    the FLOPs (L1 of the trained model: the same for every seed), trained
    from scratch as AutoSlim retrains its searched widths: which of the
    two differences (widths, or starting from a trained model) counts."""
    import mmcv
    from mmcls.models import build_classifier
    from mmrazor.models.builder import build_pruner

    from mmrazor_ext.algorithms.pretrained import load_pretrained
    from mmrazor_ext.apis import load_config
    cfg = load_config(STAGE_CONFIG.format('supernet'))
    model = build_classifier(cfg.model)
    load_pretrained(model, args.pretrained)
    pruner = build_pruner(cfg.algorithm.pruner)
    pruner.prepare_from_supernet(model)
    sub = pruner.sample_subnet_flops(
        1 - flops_ratio, pruner.get_metric_local('L1Metric'), mode='diff')
    # retraining starts from scratch: which channels does not matter
    pruner.set_subnet({n: list(range(len(v))) for n, v in sub.items()})
    root = osp.join(args.work_root, f'seed{seed}')
    channel_cfg = osp.join(root, 'l1_widths.yaml')
    mmcv.mkdir_or_exist(root)
    mmcv.dump(pruner.export_subnet(), channel_cfg)
    work = osp.join(root, 'l1_from_scratch')
    secs, _ = tool('train', STAGE_CONFIG.format('subnet'), '--work-dir',
                   work, '--seed', seed, '--cfg-options',
                   f'algorithm.channel_cfg={channel_cfg}',
                   f'runner.max_epochs={args.epochs}')
    return dict(method='L1 diff widths, trained from scratch', seed=seed,
                finetuned=last_val_top1(work),
                flops_ratio=pruner.flops_params(sub)[0] /
                pruner.flops_params({})[0], seconds=dict(retrain=secs))


def oneshot(args, seed, metric, flops_ratio):
    t0 = time.time()
    r = ONESHOT.run_one(args, metric, round(1 - flops_ratio, 4), 'diff', seed)
    return dict(method=f'OneShot {metric} diff', seed=seed,
                finetuned=r['finetuned'], recalibrated=r['recalibrated'],
                flops_ratio=r['flops_ratio'],
                seconds=dict(finetune=time.time() - t0))


def table(results):
    fmt = ONESHOT.mean_std
    groups = {}
    for r in results:
        groups.setdefault(r['method'], []).append(r)
    lines = ['| method | seeds | FLOPs kept | val top-1 before training '
             '(AutoSlim: searched widths in the supernet; OneShot: pruned, '
             '+ BN recalibration) | val top-1 after training | '
             'seconds per stage |', '|---|---|---|---|---|---|']
    for method, rows in groups.items():
        before = [r.get('searched', r.get('recalibrated')) for r in rows]
        before = fmt(before) if None not in before else '-'
        secs = {k: statistics.mean(r['seconds'][k] for r in rows)
                for k in rows[0]['seconds']}
        lines.append(
            f'| {method} | {len(rows)} | '
            f'{statistics.mean(r["flops_ratio"] for r in rows):.1%} | '
            f'{before} | {fmt([r["finetuned"] for r in rows])} | ' +
            ', '.join(f'{k} {v:.0f}' for k, v in secs.items()) + ' |')
    return '\n'.join(lines)


def main():
    args = parse_args()
    results = ONESHOT.start(args, 'autoslim_quality.py')
    if not args.table:
        from mmrazor_ext.utils import write_json
        for seed in args.seeds:
            done = {r['method'] for r in results if r['seed'] == seed}
            if 'AutoSlim' not in done:
                results.append(autoslim(args, seed))
                write_json(results, args.out)
            ratio = [r for r in results if r['seed'] == seed and
                     r['method'] == 'AutoSlim'][0]['flops_ratio']
            for metric in args.metrics:
                if f'OneShot {metric} diff' not in done:
                    results.append(oneshot(args, seed, metric, ratio))
                    write_json(results, args.out)
            if args.from_scratch and not any(
                    m.endswith('from scratch') for m in done):
                results.append(l1_widths_from_scratch(args, seed, ratio))
                write_json(results, args.out)
            print(f'seed {seed} done', flush=True)
    print(table(results))


if __name__ == '__main__':
    main()
