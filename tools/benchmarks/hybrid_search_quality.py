"""HybridSearch on the embedded digits: search speed, quality against the
uniform and global-ranking (diff) subnets of the same FLOPs, and whether
the search score predicts trained accuracy.

1. speed: candidates evaluated per minute (``GeatpySearcher``, one
   process) on the trained ResNet-20;
2. quality: for each model, FLOPs reduction and seed, the searched subnet
   vs uniform and diff at the searched subnet's FLOPs (same CDP scores):
   val top-1 (a) right after BN recalibration and (b) after the same short
   fine-tune (``--epochs``, Adam, cosine);
3. Spearman correlation between search top-1 and val top-1 after a
   1-epoch fine-tune for 12 candidates spread over the first search's
   evaluated candidates.

Rows are saved to ``--out`` as they finish (a rerun skips them); the
tables are printed at the end (or alone with ``--table``).

    python tools/benchmarks/hybrid_search_quality.py --models resnet20 \
        --population 12 --generations 5 --epochs 2 --seeds 0 1 2
"""
import argparse
import copy
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
import mmrazor_ext  # noqa: E402,F401  (before mmrazor: hides broken mmseg)
from mmcls.models import build_classifier  # noqa: E402
from mmcv import Config  # noqa: E402
from mmrazor.models.builder import build_pruner  # noqa: E402

from mmrazor_ext.adapters import classification_loss, split_batch  # noqa
from mmrazor_ext.algorithms.pretrained import load_pretrained  # noqa: E402
from mmrazor_ext.engine import (build_loader, evaluate,  # noqa: E402
                                machine_load, recalibrate_bn)
from mmrazor_ext.searchers import GeatpySearcher  # noqa: E402
from mmrazor_ext.utils import write_json  # noqa: E402

CONFIG = osp.join(ROOT, 'configs/hybrid_search/'
                  'hybrid-search-sega_cifar-resnet20_1xb64_digits.py')
CKPT = {20: 'work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth',
        56: 'work_dirs/cifar-resnet56_1xb64_digits/epoch_10.pth'}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--models', nargs='+', default=['resnet20'],
                   choices=['resnet20', 'resnet56'])
    p.add_argument('--reductions', type=float, nargs='+',
                   default=[0.5, 0.7], help='fractions of FLOPs removed')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--population', type=int, default=12)
    p.add_argument('--generations', type=int, default=5)
    p.add_argument('--epochs', type=int, default=2,
                   help='the short fine-tune of every subnet')
    p.add_argument('--speed-generations', type=int, default=3)
    p.add_argument('--spearman', type=int, default=12,
                   help='candidates fine-tuned 1 epoch (0: skip)')
    p.add_argument('--out', default=osp.join(
        ROOT, 'work_dirs/hybrid_search_quality.json'))
    p.add_argument('--json', default=None,
                   help='instead: the searched subnet of this search JSON '
                   '(ResNet-20) vs uniform and diff of its FLOPs, val top-1 '
                   'after BN and after --epochs, one row per seed')
    p.add_argument('--table', action='store_true',
                   help='print the tables of --out and stop')
    return p.parse_args()


def setup(depth):
    """Config, trained classifier of ``depth`` and its pruner."""
    cfg = Config.fromfile(CONFIG)
    arch = copy.deepcopy(cfg.algorithm.architecture.model)
    arch.backbone.depth = depth
    ckpt = osp.join(ROOT, CKPT[depth])
    if not osp.isfile(ckpt):
        sys.exit(f'{ckpt} missing: python tools/train.py configs/resnet/'
                 'cifar-resnet20_1xb64_digits.py --seed 0 --work-dir '
                 f'{osp.dirname(CKPT[depth])} --cfg-options '
                 f'model.backbone.depth={depth}')
    model = build_classifier(arch)
    load_pretrained(model, ckpt)
    pruner = build_pruner(cfg.algorithm.pruner)
    pruner.prepare_from_supernet(model)
    return cfg, model, pruner, ckpt


def search(cfg, model, pruner, ckpt, budget, seed, population, generations,
           work):
    s = dict(cfg.searcher)
    s.pop('type')
    s.update(budget=dict(flops=budget), seed=seed, population=population,
             generations=generations,
             json_name=osp.join(work, f'search_{budget}_{seed}.json'))
    searcher = GeatpySearcher(model, pruner, cfg.data, ckpt, work, **s)
    return searcher.search(), searcher.channel_scores


def finetune_val(cfg, pruner, subnet, epochs, seed):
    """Val top-1 of the physically pruned ``subnet`` after BN
    recalibration, then after ``epochs`` of fine-tuning."""
    return finetune_model(cfg, pruner.export(subnet), epochs, seed)


def finetune_model(cfg, model, epochs, seed):
    """Val top-1 of ``model`` (a physically pruned copy) after BN
    recalibration on 10 training batches, then after ``epochs`` of
    fine-tuning (Adam 2e-3, weight decay 1e-4, cosine): the same loop for
    every row of this benchmark and of hybrid_latency_quality.py."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    val = build_loader(cfg.data, 'val')
    recalibrate_bn(model, build_loader(cfg.data, 'train', seed), 10)
    out = dict(bn=evaluate(model, val)['top-1'])
    if epochs:
        loader = build_loader(cfg.data, 'train', seed)
        opt = torch.optim.Adam(model.parameters(), lr=2e-3,
                               weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(
            opt, epochs * len(loader))
        model.train()
        for _ in range(epochs):
            for batch in loader:
                img, labels = split_batch(batch)
                loss = classification_loss(model, img, labels) / len(img)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        out['finetuned'] = evaluate(model, val)['top-1']
    return out


def spearman(a, b):
    ra = np.argsort(np.argsort(a)).astype(float)
    rb = np.argsort(np.argsort(b)).astype(float)
    for r, v in ((ra, np.asarray(a)), (rb, np.asarray(b))):  # ties
        for x in set(v.tolist()):
            m = v == x
            r[m] = r[m].mean()
    return float(np.corrcoef(ra, rb)[0, 1])


def results_file(path):
    """The results so far in ``path`` (a dict), and ``save(key, value)``:
    store one result, rewrite the file and print a line of it (so an
    interrupted benchmark continues where it stopped)."""
    results = json.load(open(path)) if osp.isfile(path) else {}

    def save(key, value):
        results[key] = value
        write_json(results, path)
        print(f'[{time.strftime("%H:%M:%S")}] {key}: '
              f'{json.dumps(value)[:300]}', flush=True)
    return results, save


def main():
    args = parse_args()
    torch.set_num_threads(1)
    results, save = results_file(args.out)
    if args.table:
        return print_tables(results)

    work = tempfile.mkdtemp(prefix='hybrid_bench_')
    if args.json:
        return from_json(args, save, work)
    for name in args.models:
        depth = int(name[6:])
        cfg, model, pruner, ckpt = setup(depth)
        if name == 'resnet20' and 'speed' not in results:
            t0 = time.time()
            r, _ = search(cfg, model, pruner, ckpt, 0.5, 100, 16,
                          args.speed_generations, work)
            save('speed', dict(
                candidates_per_minute=r['candidates_per_minute'],
                evaluated=r['evaluated'], eval_seconds=r['eval_seconds'],
                wall_seconds=round(time.time() - t0, 1),
                load=machine_load()))
        if name == 'resnet20' and 'speed_2procs' not in results:
            save('speed_2procs', speed_two_processes(
                ckpt, args.speed_generations, work))
        for red in args.reductions:
            for seed in args.seeds:
                key = f'{name}/{red}/{seed}'
                if key in results:
                    continue
                r, sc = search(cfg, model, pruner, ckpt, 1 - red, seed,
                               args.population, args.generations, work)
                row = dict(search_seconds=r['seconds'],
                           evaluated=r['evaluated'],
                           searched_search_top1=r['best']['search_top1'])
                subnets = dict(searched=r['best']['subnet'])
                ratio = r['best']['flops_ratio']
                for mode in ('uniform', 'diff'):  # as the search's refs
                    row[f'{mode}_search_top1'] = \
                        r['references'][mode][0]['search_top1']
                    subnets[mode] = pruner.sample_subnet_flops(
                        min(1 - ratio, 0.999), sc, mode=mode)
                for what, sub in subnets.items():
                    row[what] = dict(
                        flops_ratio=pruner.flops_params(sub)[0] /
                        pruner.flops_params({})[0],
                        **finetune_val(cfg, pruner, sub, args.epochs, seed))
                save(key, row)
                if args.spearman and f'spearman/{name}' not in results:
                    cands = r['candidates']
                    pick = sorted(set(np.linspace(
                        0, len(cands) - 1, args.spearman).round().astype(
                            int).tolist()))
                    pairs = []
                    for i in pick:
                        sub = kept_subnet(pruner, sc, cands[i]['kept'])
                        pairs.append((cands[i]['search_top1'], finetune_val(
                            cfg, pruner, sub, 1, seed)['finetuned']))
                    save(f'spearman/{name}', dict(
                        pairs=pairs, rho=spearman(*zip(*pairs))))
    print_tables(results)


SETTINGS = ('ea_algorithm', 'budget', 'population', 'generations',
            'seed', 'metric', 'num_batches', 'search_split',
            'recalibrate_bn', 'batch_size', 'eval_batch_size', 'prophets',
            'keep_ratios')


def from_json(args, save, work):
    """Rows ``json/<file>/<seed>`` for the best subnet of ``--json``."""
    from mmrazor_ext.searchers import SearchSplit, read_search_json
    data = read_search_json(args.json)
    cfg, model, pruner, ckpt = setup(20)
    settings = dict(data['settings'])
    if 'flops_budget' in settings:  # a JSON of mmrazor_ext 0.1.0
        settings['budget'] = dict(flops=settings.pop('flops_budget'))
    s = {k: settings[k] for k in SETTINGS}
    searcher = GeatpySearcher(model, pruner, cfg.data, ckpt, work, **dict(
        s, json_name=osp.join(work, 'unused.json')))
    split = SearchSplit(cfg.data, s['search_split']['num_images'], s['seed'])
    scores = searcher.scores(split)  # the search's channel ranking
    ratio = data['best']['flops_ratio']
    subnets = dict(searched=data['best']['subnet'])
    for mode in ('uniform', 'diff'):
        subnets[mode] = pruner.sample_subnet_flops(min(1 - ratio, 0.999),
                                                   scores, mode=mode)
    refs = data['references']
    for seed in args.seeds:
        row = dict(searched_search_top1=data['best']['search_top1'],
                   uniform_search_top1=refs['uniform'][0]['search_top1'],
                   diff_search_top1=refs['diff'][0]['search_top1'],
                   evaluated=data['evaluated'])
        for what, sub in subnets.items():
            row[what] = dict(
                flops_ratio=pruner.flops_params(sub)[0] /
                pruner.flops_params({})[0],
                **finetune_val(cfg, pruner, sub, args.epochs, seed))
        save(f'json:{osp.basename(args.json)}/{1 - s["budget"]["flops"]:g}/'
             f'{seed}', row)


def speed_two_processes(ckpt, generations, work):
    """The speed search again in 2 gloo processes (tools/dist_search.sh):
    each rank evaluates half of every generation."""
    out = osp.join(work, 'speed_2procs.json')
    cmd = ['bash', osp.join(ROOT, 'tools/dist_search.sh'), '2', CONFIG, ckpt,
           '--work-dir', osp.join(work, 'speed2'), '--cfg-options',
           'searcher.population=16', f'searcher.generations={generations}',
           'searcher.seed=100', f'searcher.json_name={out}']
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               PYTHON=sys.executable, MASTER_PORT='29655')
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        return dict(error=proc.stderr[-500:])
    r = json.load(open(out))
    return dict(candidates_per_minute=r['candidates_per_minute'],
                evaluated=r['evaluated'], eval_seconds=r['eval_seconds'],
                load=machine_load())


def kept_subnet(pruner, scores, kept):
    """The best-scored ``kept[i]`` channels of each space."""
    ratios = {n: 1 - k / sp.num_channels for n, k, sp in zip(
        pruner.space_names(), kept, pruner.prunable_spaces)}
    return pruner.sample_subnet_nonuni(ratios, scores)


def _ms(values):
    if not values:
        return '-'
    if len(values) == 1:
        return f'{values[0]:.2f}'
    return f'{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}'


def print_rows(lines, title):
    """``lines`` (a header, then rows of cells) as an aligned table."""
    widths = [max(len(str(x[i])) for x in lines)
              for i in range(len(lines[0]))]
    print(f'\n{title}')
    for i, line in enumerate(lines):
        print('  '.join(str(c).ljust(w) for c, w in zip(line, widths)))
        if i == 0:
            print('-' * (sum(widths) + 2 * (len(widths) - 1)))


def print_tables(results):
    if 'speed' in results:
        s = results['speed']
        print(f"\nspeed (ResNet-20, digits, 1 process): "
              f"{s['candidates_per_minute']} candidates/minute "
              f"({s['evaluated']} evaluated in {s['eval_seconds']} s; load "
              f"{s['load']['load_average']:.1f} on {s['load']['cpus']} CPUs)")
    s = results.get('speed_2procs')
    if s and 'error' not in s:
        print(f"speed (ResNet-20, digits, 2 gloo processes): "
              f"{s['candidates_per_minute']} candidates/minute "
              f"({s['evaluated']} evaluated in {s['eval_seconds']} s; load "
              f"{s['load']['load_average']:.1f} on {s['load']['cpus']} CPUs)")
    elif s:
        print(f"speed, 2 processes: failed: {s['error']}")
    rows = {}
    for key, row in results.items():
        if key.count('/') == 2:
            name, red, _ = key.split('/')
            rows.setdefault((name, red), []).append(row)
    if rows:
        head = ('model', 'FLOPs removed', 'seeds', 'subnet', 'FLOPs kept',
                'search top-1', 'val top-1 +BN', 'val top-1 fine-tuned')
        lines = [head]
        for (name, red), rs in sorted(rows.items()):
            for what in ('searched', 'uniform', 'diff'):
                lines.append((
                    name, f'{float(red):.0%}', str(len(rs)), what,
                    _ms([r[what]['flops_ratio'] * 100 for r in rs]),
                    _ms([r[f'{what}_search_top1'] for r in rs]),
                    _ms([r[what]['bn'] for r in rs]),
                    _ms([r[what]['finetuned'] for r in rs
                         if 'finetuned' in r[what]])))
        print_rows(lines, 'quality: mean ± std over seeds')
    for key, s in results.items():
        if key.startswith('spearman/'):
            print(f"\n{key[9:]}: Spearman(search top-1, val top-1 after 1 "
                  f"epoch) over {len(s['pairs'])} candidates = "
                  f"{s['rho']:.3f}")


if __name__ == '__main__':
    main()
