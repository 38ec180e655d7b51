"""What a fine-tuning iteration costs after pruning: on the physically
pruned model (after the switch), on the masked full-width model, and for
the exported model trained alone; each over the unpruned model's.

Part 1 (cost): ResNet-CIFAR-56 and CIFAR ResNet-18 at 32x32 (the embedded
digits' size), pruned to 50% of their FLOPs (L1, global ranking); one
iteration = forward + backward + SGD step on a fixed batch (data loading
excluded); the four variants run interleaved, one iteration each per
round, and the median is printed.

Part 2 (accuracy, ``--seeds``): the main job's trained ResNet-20
(``scripts/main_job.sh`` makes it) pruned by OneShot (CDP, 50% FLOPs) and
fine-tuned through tools' ``train_model`` with ``finetune='pruned'`` and
``'masked'``, same seeds, same epochs; val top-1 after fine-tuning.

    python tools/benchmarks/finetune_cost.py [--iters 30] [--batch 64]
        [--seeds 0 1 2] [--epochs 2] [--out work_dirs/finetune_cost.json]
"""
import argparse
import contextlib
import io
import os.path as osp
import statistics
import sys
import tempfile
import time

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODELS = {'ResNet-CIFAR-56': 'cifar-resnet56.py',
          'CIFAR ResNet-18': 'cifar-resnet18.py'}
PRUNE_CFG = 'configs/one_shot/one-shot-cdp_cifar-resnet20_1xb64_digits.py'
TRAINED = 'work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth'


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--iters', type=int, default=30,
                   help='timed iterations per variant')
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--seeds', type=int, nargs='*', default=[0, 1, 2],
                   help='seeds of the accuracy part (none: skip it)')
    p.add_argument('--epochs', type=int, default=2,
                   help='fine-tuning epochs of the accuracy part')
    p.add_argument('--pretrained', default=osp.join(ROOT, TRAINED))
    p.add_argument('--out', help='also write the figures to this JSON')
    return p.parse_args()


def build_pruned(model_file):
    """A OneShot algorithm at 50% FLOPs (L1, diff) around a model."""
    from mmcv import Config
    from mmrazor.models import build_algorithm
    model = Config.fromfile(osp.join(ROOT, 'configs/_base_/models',
                                     model_file)).model
    algo = build_algorithm(dict(
        type='OneShot', evaluate=False, metric='L1Metric', mode='diff',
        budget=dict(flops=0.5),
        architecture=dict(type='MMClsArchitecture', model=model),
        pruner=dict(type='ChannelPruner', input_shape=(3, 32, 32))))
    with contextlib.redirect_stderr(io.StringIO()):
        algo.prune_step(0)
    algo.hook_attached = True  # stepped by hand here, no PruningHook
    return algo


def step_fn(module, batch):
    """One training iteration of an algorithm or a classifier."""
    opt = torch.optim.SGD(module.parameters(), lr=1e-3, momentum=0.9,
                          weight_decay=1e-4)

    def step():
        out = module.train_step(batch, opt)
        opt.zero_grad()
        out['loss'].backward()
        opt.step()
    return step


def time_variants(fns, iters):
    for fn in fns.values():  # warm-up
        fn()
    times = {k: [] for k in fns}
    for _ in range(iters):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def cost(args):
    rows = []
    for name, model_file in MODELS.items():
        torch.manual_seed(0)
        masked = build_pruned(model_file)
        torch.manual_seed(0)
        switched = build_pruned(model_file)  # the same weights and subnet
        switched.switch_to_pruned()
        exported = masked.export_model().train()
        unpruned = masked.pruner.export(subnet={}).train()  # no masks
        batch = dict(img=torch.randn(args.batch, 3, 32, 32),
                     gt_label=torch.randint(0, 10, (args.batch, )))
        sec = time_variants(dict(
            unpruned=step_fn(unpruned, batch),
            masked=step_fn(masked, batch),
            switched=step_fn(switched, batch),
            exported=step_fn(exported, batch)), args.iters)
        flops = masked.pruner.flops_params(masked.pruner.get_subnet())[0]
        rows.append(dict(model=name, flops_kept=flops / masked.full_flops,
                         seconds=sec,
                         over_unpruned={k: v / sec['unpruned']
                                        for k, v in sec.items()},
                         switched_over_exported=sec['switched'] /
                         sec['exported']))
        print(f'{name}: FLOPs kept {rows[-1]["flops_kept"]:.1%}; s/iter ' +
              ', '.join(f'{k} {v:.4f}' for k, v in sec.items()), flush=True)
    return rows


def finetune_accuracy(args, finetune, seed):
    from mmcls.apis import set_random_seed
    from mmcls.datasets import build_dataset

    from mmrazor_ext.apis import build_model, load_config, train_model
    cfg = load_config(osp.join(ROOT, PRUNE_CFG))
    cfg.algorithm.update(pretrained=args.pretrained, finetune=finetune,
                         seed=seed)
    cfg.runner.max_epochs = args.epochs
    cfg.custom_hooks = [dict(type='PruningHook', latency_batch_sizes=())]
    cfg.checkpoint_config = dict(interval=10 ** 6, save_last=False)
    cfg.device, cfg.gpu_ids, cfg.seed = 'cpu', range(1), seed
    set_random_seed(seed)
    algo = build_model(cfg)
    with tempfile.TemporaryDirectory() as work_dir:
        cfg.work_dir = work_dir
        t0 = time.time()
        train_model(algo, [build_dataset(cfg.data.train)], cfg,
                    validate=False)
    return dict(finetune=finetune, seed=seed,
                top1=algo.record['after_finetune']['top-1'],
                seconds=round(time.time() - t0, 1))


def table(rows, acc):
    lines = ['| model | FLOPs kept | unpruned s/iter | masked / unpruned | '
             'switched / unpruned | exported alone / unpruned | '
             'switched / exported |', '|---|---|---|---|---|---|---|']
    for r in rows:
        o = r['over_unpruned']
        lines.append(f'| {r["model"]} | {r["flops_kept"]:.1%} | '
                     f'{r["seconds"]["unpruned"]:.4f} | {o["masked"]:.2f} | '
                     f'{o["switched"]:.2f} | {o["exported"]:.2f} | '
                     f'{r["switched_over_exported"]:.3f} |')
    if acc:
        lines += ['', '| fine-tuning | seeds | val top-1 after fine-tuning |'
                  ' seconds (training) |', '|---|---|---|---|']
        for ft in ('pruned', 'masked'):
            rs = [a for a in acc if a['finetune'] == ft]
            top = [a['top1'] for a in rs]
            sd = statistics.stdev(top) if len(top) > 1 else 0.0
            lines.append(
                f'| {ft} | {len(rs)} | {statistics.mean(top):.2f} ± '
                f'{sd:.2f} ({", ".join(f"{t:.2f}" for t in top)}) | '
                f'{statistics.mean(a["seconds"] for a in rs):.1f} |')
    return '\n'.join(lines)


def main():
    args = parse_args()
    sys.path.insert(0, ROOT)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    import mmrazor_ext  # noqa: F401
    from mmcls.utils import get_root_logger

    from mmrazor_ext.utils import write_json
    get_root_logger(log_level='WARNING')
    rows = cost(args)
    acc = []
    if args.seeds:
        if not osp.isfile(args.pretrained):
            sys.exit(f'finetune_cost: trained model {args.pretrained} not '
                     'found; run scripts/main_job.sh first (or --seeds)')
        for seed in args.seeds:
            for ft in ('pruned', 'masked'):
                acc.append(finetune_accuracy(args, ft, seed))
                print(acc[-1], flush=True)
    print(table(rows, acc))
    if args.out:
        write_json(dict(cost=rows, accuracy=acc, args=vars(args)), args.out)


if __name__ == '__main__':
    main()
