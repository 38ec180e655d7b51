"""HybridSearch over widths and depth under a measured-latency budget, on
the embedded digits (ResNet-20, ResNet-56, MobileNetV2; the configs
``configs/hybrid_search/hybrid-search-joint-latency_*_digits.py``):

1. ``table``: the latency table of each model on ONNX Runtime (1 thread,
   batch 1): entries, build time, predicted against measured latency on
   20 random candidates (median and max relative error);
2. ``speed``: candidates evaluated per minute by the joint search of the
   digits ResNet-20 in one process (and its CPU time); ``evaluation``:
   CPU time per candidate of 20 random joint candidates of ResNet-20,
   evaluated as the search does now (the exported candidate) and as it
   did before (masks on the full-width model in place, blocks swapped
   for identities), same top-1;
3. ``quality``: per model, latency reduction and seed, the searched
   subnet against the search's references at the same MEASURED latency
   (``uniform``, ``diff``, ``blocks``): val top-1 after BN recalibration
   and after the same fine-tune (``--epochs``, Adam 2e-3, cosine) of each,
   physically pruned;
4. ``spearman``: search top-1 against val top-1 after the same fine-tune
   for ``--spearman`` candidates spread over a search's evaluated ones.

Rows are saved to ``--out`` as they finish (a rerun skips them); the
tables are printed at the end (or alone with ``--table``).

    python tools/benchmarks/hybrid_latency_quality.py --parts table
    python tools/benchmarks/hybrid_latency_quality.py --parts quality \
        --models resnet20 --reductions 0.5 0.7 --seeds 0 1 2 --epochs 3
"""
import argparse
import os.path as osp
import shutil
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

from mmrazor_ext.algorithms.pretrained import load_pretrained  # noqa: E402
from mmrazor_ext.engine import machine_load, recalibrate_bn  # noqa: E402
from mmrazor_ext.searchers import GeatpySearcher  # noqa: E402
from mmrazor_ext.searchers.latency_candidates import \
    candidate_model  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
# the same fine-tune loop, statistics and table cells as the FLOPs study
from hybrid_search_quality import (_ms, print_rows,  # noqa: E402
                                   results_file, spearman)
from hybrid_search_quality import finetune_model as finetune_val  # noqa

MODELS = {
    'resnet20': ('cifar-resnet20_1xb64_digits',
                 'configs/resnet/cifar-resnet20_1xb64_digits.py'),
    'resnet56': ('cifar-resnet56_1xb64_digits',
                 'configs/fusion/cifar-resnet56_1xb64_digits.py'),
    'mobilenet-v2': ('mobilenet-v2_1xb64_digits',
                     'configs/fusion/mobilenet-v2_1xb64_digits.py')}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parts = ['table', 'evaluation', 'speed', 'quality', 'spearman']
    p.add_argument('--parts', nargs='+', default=parts, choices=parts)
    p.add_argument('--models', nargs='+', default=list(MODELS),
                   choices=list(MODELS))
    p.add_argument('--reductions', type=float, nargs='+',
                   default=[0.5, 0.7], help='fractions of latency removed')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--population', type=int, default=16)
    p.add_argument('--generations', type=int, default=8)
    p.add_argument('--epochs', type=int, default=3,
                   help='the fine-tune of every subnet')
    p.add_argument('--speed-generations', type=int, default=4)
    p.add_argument('--spearman', type=int, default=12)
    p.add_argument('--runtime', default='onnxruntime',
                   choices=['onnxruntime', 'torch'],
                   help='the latency table\'s runtime (table part)')
    p.add_argument('--png', default=None, help='copy the first quality '
                   "search's front (search_pareto.png) here")
    p.add_argument('--out', default=osp.join(
        ROOT, 'work_dirs/hybrid_latency_quality.json'))
    p.add_argument('--table', action='store_true',
                   help='print the tables of --out and stop')
    return p.parse_args()


def setup(name):
    """Config, trained classifier and its pruner, checkpoint."""
    stem, train_cfg = MODELS[name]
    cfg = Config.fromfile(osp.join(
        ROOT, f'configs/hybrid_search/hybrid-search-joint-latency_{stem}.py'))
    ckpt = osp.join(ROOT, 'work_dirs', stem, 'epoch_10.pth')
    if not osp.isfile(ckpt):
        sys.exit(f'{ckpt} missing: python tools/train.py {train_cfg} '
                 f'--seed 0 --work-dir work_dirs/{stem}')
    model = build_classifier(cfg.algorithm.architecture.model)
    load_pretrained(model, ckpt)
    pruner = build_pruner(cfg.algorithm.pruner)
    pruner.prepare_from_supernet(model)
    return cfg, model, pruner, ckpt


def searcher_of(cfg, model, pruner, ckpt, work, **settings):
    s = dict(cfg.searcher)
    s.pop('type')
    s.update(settings)
    s.setdefault('json_name', osp.join(work, 'search.json'))
    return GeatpySearcher(model, pruner, cfg.data, ckpt, work, **s)


def main():
    args = parse_args()
    torch.set_num_threads(1)
    results, save = results_file(args.out)
    if args.table:
        return print_tables(results)

    work = tempfile.mkdtemp(prefix='hybrid_latency_bench_')
    for name in args.models:
        cfg, model, pruner, ckpt = setup(name)
        key = f'table/{name}' + ('' if args.runtime == 'onnxruntime'
                                 else f'@{args.runtime}')
        if 'table' in args.parts and key not in results:
            t0 = time.time()
            s = searcher_of(cfg, model, pruner, ckpt, work, latency=dict(
                cfg.searcher.latency, runtime=args.runtime))
            table = s.prepare_latency()
            summary = table.summary()
            summary['validation'].pop('rows')
            save(key, dict(summary, wall_seconds=round(time.time() - t0,
                                                       1)))
        if 'evaluation' in args.parts and name == 'resnet20' and \
                'evaluation' not in results:
            save('evaluation', evaluation_cost(cfg, model, pruner, ckpt,
                                               work))
        if 'speed' in args.parts and name == 'resnet20' and \
                'speed' not in results:
            s = searcher_of(cfg, model, pruner, ckpt, work, seed=100,
                            generations=args.speed_generations)
            c0, t0 = time.process_time(), time.time()
            r = s.search()
            save('speed', dict(
                candidates_per_minute=r['candidates_per_minute'],
                evaluated=r['evaluated'], eval_seconds=r['eval_seconds'],
                cpu_seconds=round(time.process_time() - c0, 1),
                wall_seconds=round(time.time() - t0, 1),
                load=machine_load()))
        for red in args.reductions:
            for seed in args.seeds:
                key = f'{name}/{red:g}/{seed}'
                if 'quality' not in args.parts or key in results:
                    continue
                s = searcher_of(cfg, model, pruner, ckpt, work, seed=seed,
                                budget=dict(latency=round(1 - red, 6)),
                                population=args.population,
                                generations=args.generations,
                                json_name=osp.join(
                                    work, key.replace('/', '_') + '.json'))
                r = s.search()
                if args.png and not osp.isfile(args.png):
                    shutil.copy(osp.join(work, 'search_pareto.png'),
                                args.png)
                row = dict(search_seconds=r['seconds'],
                           evaluated=r['evaluated'],
                           validation=r['latency_model']['validation'][
                               'median_relative_error'])
                for ref, (point, ) in r['references'].items():
                    m = candidate_model(pruner, s.space.blocks,
                                        point['subnet'],
                                        point['blocks_removed'])
                    row[ref] = dict(
                        search_top1=point['search_top1'],
                        measured_ratio=point['measured_ratio'],
                        within_tolerance=point['within_tolerance'],
                        blocks_removed=len(point['blocks_removed']),
                        **finetune_val(cfg, m, args.epochs, seed))
                save(key, row)
                if 'spearman' in args.parts and args.spearman and \
                        f'spearman/{name}' not in results:
                    cands = r['candidates']
                    pick = sorted(set(np.linspace(
                        0, len(cands) - 1, args.spearman).round().astype(
                            int).tolist()))
                    pairs = []
                    for i in pick:
                        m = candidate_model(
                            pruner, s.space.blocks, s.space.subnet(
                                cands[i]['kept'], s.channel_scores),
                            cands[i].get('blocks_removed', []))
                        pairs.append((cands[i]['search_top1'], finetune_val(
                            cfg, m, args.epochs, seed)['finetuned']))
                    save(f'spearman/{name}', dict(
                        pairs=pairs, rho=spearman(*zip(*pairs)),
                        epochs=args.epochs))
    print_tables(results)


def evaluation_cost(cfg, model, pruner, ckpt, work, num=20):
    """CPU seconds per candidate, exported (now) against masked in place
    (before), on the same random joint candidates, twice each."""
    from mmrazor_ext.engine import preserved_bn_stats
    from mmrazor_ext.fusion.module_paths import set_submodule
    from mmrazor_ext.searchers import CandidateEvaluator
    from mmrazor_ext.searchers.latency_candidates import random_candidates
    s = searcher_of(cfg, model, pruner, ckpt, work)
    split = s.prepare_split()
    imgs, labels = split.search_data()
    ev = CandidateEvaluator(pruner, imgs, labels, split.train_batches(
        s.recal_batches, s.batch_size), s.eval_batch_size, s.space.blocks)
    scores = s.scores(split)
    cands = [(s.space.subnet(k, scores), r)
             for k, r in random_candidates(s.space, num, 0)]

    def masked(sub, removed):
        saved = {n: model.get_submodule(n) for n in removed}
        with preserved_bn_stats(model):
            pruner.set_subnet(sub)
            for n in removed:
                set_submodule(model, n, torch.nn.Identity())
            try:
                recalibrate_bn(model, ev.recal, len(ev.recal), sync=False)
                return ev.top1()
            finally:
                for n, mod in saved.items():
                    set_submodule(model, n, mod)
                pruner.set_subnet({})

    out = {}
    for name, fn in (('masked', masked), ('exported', ev)) * 2:
        c0, t0 = time.process_time(), time.time()
        top1 = [fn(sub, removed) for sub, removed in cands]
        out.setdefault(name, []).append(dict(
            cpu_per_candidate=(time.process_time() - c0) / num,
            wall_per_candidate=(time.time() - t0) / num,
            mean_top1=sum(top1) / num))
    return dict(out, candidates=num, load=machine_load())


def print_tables(results):
    for key, t in results.items():
        if key.startswith('table/'):
            v = t['validation']
            print(f"{key[6:]} ({t['runtime']}): {t['entries']} entries, "
                  f"unpruned "
                  f"{t['unpruned_ms']:.3f} ms, built in "
                  f"{t['wall_seconds']} s (load {t['load_average']:.1f}); "
                  f"{v['candidates']} random candidates: median relative "
                  f"error {v['median_relative_error']:.1%}, max "
                  f"{v['max_relative_error']:.1%} (validation load "
                  f"{v['load_average']:.1f})")
    if 'evaluation' in results:
        e = results['evaluation']
        for name in ('masked', 'exported'):
            cpu = min(r['cpu_per_candidate'] for r in e[name])
            print(f"evaluation, {name}: {cpu:.3f} CPU s per candidate "
                  f"({60 / cpu:.0f} per CPU minute), mean search top-1 "
                  f"{e[name][0]['mean_top1']:.2f}, {e['candidates']} random"
                  f" joint candidates of ResNet-20 (load "
                  f"{e['load']['load_average']:.1f})")
    if 'speed' in results:
        s = results['speed']
        print(f"\nspeed (ResNet-20 joint latency search, digits, 1 process):"
              f" {s['candidates_per_minute']} candidates/minute "
              f"({s['evaluated']} evaluated in {s['eval_seconds']} s, "
              f"{s['cpu_seconds']} CPU s for the whole search; load "
              f"{s['load']['load_average']:.1f} on {s['load']['cpus']} CPUs)")
    rows = {}
    for key, row in results.items():
        if key.count('/') == 2 and not key.startswith(('table', 'spear')):
            name, red, _ = key.split('/')
            rows.setdefault((name, red), []).append(row)
    if rows:
        head = ('model', 'latency removed', 'seeds', 'subnet',
                'latency kept (measured)', 'within 5%', 'blocks removed',
                'search top-1', 'val top-1 +BN', 'val top-1 fine-tuned')
        lines = [head]
        for (name, red), rs in sorted(rows.items()):
            for what in ('searched', 'uniform', 'diff', 'blocks'):
                lines.append((
                    name, f'{float(red):.0%}', str(len(rs)), what,
                    _ms([r[what]['measured_ratio'] * 100 for r in rs]),
                    f"{sum(r[what]['within_tolerance'] for r in rs)}"
                    f"/{len(rs)}",
                    _ms([r[what]['blocks_removed'] for r in rs]),
                    _ms([r[what]['search_top1'] for r in rs]),
                    _ms([r[what]['bn'] for r in rs]),
                    _ms([r[what]['finetuned'] for r in rs
                         if 'finetuned' in r[what]])))
        print_rows(lines, 'quality: mean ± std over seeds')
    for key, s in results.items():
        if key.startswith('spearman/'):
            print(f"\n{key[9:]}: Spearman(search top-1, val top-1 after "
                  f"{s['epochs']} epochs) over {len(s['pairs'])} candidates"
                  f" = {s['rho']:.3f}")


if __name__ == '__main__':
    main()
