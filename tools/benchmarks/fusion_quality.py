"""Fusion quality on the embedded digits: block removal, layer merging,
OneShot channel pruning and blocks + channels, each aimed at about 50% of
the unpruned model's CPU latency, on the same trained model with the same
fine-tuning budget, over seeds.

Per model the classifier is trained once (seed 0) unless its checkpoint
exists. Each row runs tools/train.py's code in process; its deploy model
(merged, BN folded) is kept, and after each seed every row's deploy model
and the unpruned one (BN folded too) are timed interleaved in one run, at
batch 1 and 32. Results go to a JSON file row by row (an interrupted run
continues); the table is printed at the end (or alone with ``--table``).

    python tools/benchmarks/fusion_quality.py --seeds 0 1 2 --epochs 2
"""
import argparse
import contextlib
import io
import json
import os.path as osp
import statistics
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODELS = {  # name -> (classifier config, image size)
    'resnet56': ('configs/fusion/cifar-resnet56_1xb64_digits.py', 16),
    'mobilenetv2': ('configs/fusion/mobilenet-v2_1xb64_digits.py', 32)}
# row -> algorithm settings (each at about 50% of the batch-1 latency)
ROWS = {
    'blocks': dict(type='Fusion', budget=dict(latency=0.5)),
    'merge': dict(type='Fusion', merge='all'),
    'merge+blocks': dict(type='Fusion', merge='all',
                         budget=dict(latency=0.7)),
    'channels': dict(type='OneShot', mode='diff', budget=dict(flops=0.5)),
    'blocks+channels': dict(type='Fusion', budget=dict(latency=0.7),
                            channels=dict(budget=dict(flops=0.7),
                                          mode='diff')),
}
SKIP = {('resnet56', 'merge'): 'BasicBlocks have no mergeable chain',
        ('resnet56', 'merge+blocks'): 'BasicBlocks have no mergeable chain'}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--models', nargs='+', default=list(MODELS),
                   choices=list(MODELS))
    p.add_argument('--rows', nargs='+', default=list(ROWS),
                   choices=list(ROWS))
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--epochs', type=int, default=2,
                   help='fine-tuning epochs of every row')
    p.add_argument('--train-epochs', type=int, default=8,
                   help='epochs of the classifier (when not trained yet)')
    p.add_argument('--latency-time', type=float, default=1.0,
                   help='seconds per model per batch size in the timing')
    p.add_argument('--work-dir', default=osp.join(
        ROOT, 'work_dirs/fusion_quality'))
    p.add_argument('--table', action='store_true',
                   help='only print the table of <work-dir>/results.json')
    return p.parse_args()


def _cfg(model, img):
    from mmrazor_ext.apis import load_config
    cfg = load_config(osp.join(ROOT, MODELS[model][0]))
    for split in ('train', 'val', 'test'):
        cfg.data[split]['img_size'] = img
    for t in cfg.data.train.pipeline:
        if t['type'] == 'RandomCrop':
            t.update(size=img, padding=max(1, img // 16))
    cfg.device, cfg.gpu_ids = 'cpu', range(1)
    cfg.checkpoint_config = dict(interval=10 ** 6, save_last=False)
    cfg.log_config = dict(interval=10 ** 6, hooks=[])
    return cfg


def train_base(args, model):
    import torch
    from mmcls.apis import set_random_seed
    from mmcls.datasets import build_dataset
    from mmrazor_ext.apis import build_model, train_model
    path = osp.join(args.work_dir, f'{model}.pth')
    if osp.exists(path):
        return path
    cfg = _cfg(model, MODELS[model][1])
    cfg.runner.max_epochs, cfg.seed = args.train_epochs, 0
    set_random_seed(0)
    net = build_model(cfg)
    with tempfile.TemporaryDirectory() as work_dir:
        cfg.work_dir = work_dir
        train_model(net, [build_dataset(cfg.data.train)], cfg,
                    validate=False)
    torch.save({'state_dict': net.state_dict()}, path)
    print(f'{model}: classifier trained ({args.train_epochs} epochs)',
          flush=True)
    return path


def run_row(args, model, row, seed, pretrained):
    from mmcls.apis import set_random_seed
    from mmcls.datasets import build_dataset
    from mmrazor_ext.apis import build_model, train_model
    from mmrazor_ext.fusion import fold_bn
    img = MODELS[model][1]
    cfg = _cfg(model, img)
    algo = dict(ROWS[row], pretrained=pretrained, seed=seed, num_batches=5,
                architecture=dict(type='MMClsArchitecture', model=cfg.model),
                pruner=dict(type='ChannelPruner', input_shape=(3, img, img)),
                metric='L1Metric', recalibrate_bn=5)
    if algo['type'] == 'Fusion':
        algo.update(block_metric='CKAMetric', latency_time=0.3)
    cfg.algorithm = algo
    cfg.runner.max_epochs, cfg.seed = args.epochs, seed
    cfg.optimizer.lr = 1e-3
    cfg.lr_config = dict(policy='CosineAnnealing', min_lr=0)
    cfg.custom_hooks = [dict(type='FusionHook' if algo['type'] == 'Fusion'
                             else 'PruningHook', latency_batch_sizes=(),
                             fold_bn=False)]
    set_random_seed(seed)
    t0 = time.time()
    with contextlib.redirect_stdout(io.StringIO()):
        net = build_model(cfg)
    with tempfile.TemporaryDirectory() as work_dir:
        cfg.work_dir = work_dir
        train_model(net, [build_dataset(cfg.data.train)], cfg,
                    validate=False)
    deploy, _ = fold_bn(net.export_model(), (3, img, img))
    graph = net.pruner.trace_graph(deploy)
    rec = net.record
    after = rec.get('after_recalibration') or rec.get('after_pruning') or \
        rec.get('after_blocks')
    return dict(model=model, row=row, seed=seed,
                before=rec['before_pruning']['top-1'],
                changed=after['top-1'],
                finetuned=rec['after_finetune']['top-1'],
                flops_ratio=graph.flops() / net.full_flops,
                depth=graph.depth(),
                removed=len(getattr(net, 'removed_names', list)()),
                merged=len(getattr(net, 'linear_names', list)()),
                seconds=round(time.time() - t0, 1)), deploy


def time_models(args, model, deploys, pretrained):
    import torch
    from mmcls.models import build_classifier
    from mmrazor_ext.engine import cpu_latency
    from mmrazor_ext.fusion import fold_bn
    img = MODELS[model][1]
    base = build_classifier(_cfg(model, img).model)
    base.load_state_dict(torch.load(pretrained)['state_dict'])
    base, _ = fold_bn(base.eval(), (3, img, img))
    stats = cpu_latency(dict(unpruned=base, **deploys), (3, img, img),
                        (1, 32), args.latency_time)
    return {b: {k: v['median'] for k, v in s.items()}
            for b, s in stats.items()}


def table(results):
    lines = ['| model | row | seeds | blocks removed | chains merged | '
             'depth | FLOPs kept | latency b1 kept | latency b32 kept | '
             'top-1 unpruned | top-1 changed | top-1 fine-tuned |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|']

    def ms(rows, name):
        vals = [r[name] for r in rows]
        sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
        return f'{statistics.mean(vals):.2f} ± {sd:.2f}'
    groups = {}
    for r in results:
        groups.setdefault((r['model'], r['row']), []).append(r)
    for (model, row) in sorted(groups, key=lambda k: (
            list(MODELS).index(k[0]), list(ROWS).index(k[1]))):
        rs = groups[(model, row)]
        lat = [r for r in rs if 'latency' in r]

        def ratio(b):
            if not lat:
                return '-'
            return ms([dict(v=r['latency'][b]['row'] / r['latency'][b][
                'unpruned']) for r in lat], 'v')
        lines.append(
            f'| {model} | {row} | {len(rs)} | '
            f'{statistics.mean(r["removed"] for r in rs):.1f} | '
            f'{statistics.mean(r["merged"] for r in rs):.1f} | '
            f'{statistics.mean(r["depth"] for r in rs):.0f} | '
            f'{statistics.mean(r["flops_ratio"] for r in rs):.1%} | '
            f'{ratio("batch_1")} | {ratio("batch_32")} | '
            f'{ms(rs, "before")} | {ms(rs, "changed")} | '
            f'{ms(rs, "finetuned")} |')
    return '\n'.join(lines)


def main():
    args = parse_args()
    out = osp.join(args.work_dir, 'results.json')
    results = json.load(open(out)) if osp.exists(out) else []
    if not args.table:
        import os
        os.makedirs(args.work_dir, exist_ok=True)
        sys.path.insert(0, ROOT)
        from mmcls.utils import get_root_logger
        from mmrazor_ext.utils import write_json
        get_root_logger(log_level='WARNING')
        done = {(r['model'], r['row'], r['seed']) for r in results}
        for model in args.models:
            pretrained = train_base(args, model)
            for seed in args.seeds:
                deploys, new = {}, []
                for row in args.rows:
                    if (model, row) in SKIP or (model, row, seed) in done:
                        continue
                    r, deploy = run_row(args, model, row, seed, pretrained)
                    print(f'{model} {row} seed {seed}: fine-tuned '
                          f'{r["finetuned"]:.2f} ({r["seconds"]} s)',
                          flush=True)
                    deploys[row], new = deploy, new + [r]
                if deploys:
                    lat = time_models(args, model, deploys, pretrained)
                    for r in new:
                        r['latency'] = {b: dict(unpruned=v['unpruned'],
                                                row=v[r['row']])
                                        for b, v in lat.items()}
                    results += new
                    write_json(results, out)
    print(table(results))
    for (model, row), why in SKIP.items():
        print(f'{model} {row}: not run ({why})')


if __name__ == '__main__':
    main()
