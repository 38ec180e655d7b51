"""Pruner speed: graph building + 50% uniform L1 pruning + export per model,
against Torch-Pruning 1.6.1 on the same models when it is installed (it is
not a requirement: ``pip install torch-pruning==1.6.1`` for the
comparison). Prints one row per model, the zoo median trace time and the
median ours/theirs ratio; ``--latency`` adds the CPU speed-up of an
exported ResNet-50 at 50% FLOPs. Prints figures; not a test.

    python tools/benchmarks/pruner_speed.py [--models a,b] [--big-only]
        [--no-zoo] [--threads 1] [--json out.json] [--latency]

Models: the zoo of mmrazor_ext/testing/model_zoo.py (torchvision and mmcls,
small inputs) plus ViT-B/16, Swin-T, MaxViT-T and mmcls MViTv2-T at 224x224.
"""
import argparse
import copy
import gc
import os
import signal
import statistics
import sys
import time
import warnings

import torch
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, ROOT)  # this checkout's package
import mmrazor_ext  # noqa: E402,F401  (before mmrazor.models)
from mmrazor.models.builder import build_pruner  # noqa: E402

from mmrazor_ext.adapters import trace_forward as default_forward  # noqa: E402


def _tv(name):
    return lambda: getattr(torchvision.models, name)(weights=None,
                                                     num_classes=10)


def _mvit():
    from mmcls.models import build_classifier
    return build_classifier(dict(
        type='ImageClassifier', backbone=dict(type='MViT', arch='tiny'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=768)))


S224 = (3, 224, 224)
BIG = {'tv_vit_b_16': (_tv('vit_b_16'), S224),
       'tv_swin_t': (_tv('swin_t'), S224),
       'tv_maxvit_t': (_tv('maxvit_t'), S224),
       'mmcls_mvit_tiny': (_mvit, S224)}


def ours(model, shape, export_check='keep_whole'):
    """Seconds of (trace + grouping, trace + L1 pruning + export); with
    the pruner's default ``export_check`` preparing exports a trial
    subnet and ``export()`` checks its result (Torch-Pruning checks
    nothing: ``--export-check off`` times the same work as it)."""
    t0 = time.perf_counter()
    pruner = build_pruner(dict(type='ChannelPruner', input_shape=shape,
                               export_check=export_check))
    pruner.prepare_from_supernet(model)
    t1 = time.perf_counter()
    sub = pruner.sample_subnet_uniform(0.5,
                                       pruner.get_metric_local('L1Metric'))
    pruner.set_subnet(sub)
    pruner.export()
    return t1 - t0, time.perf_counter() - t0


def _classifier(model):
    last = None
    for m in model.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)) and getattr(
                m, 'out_features', getattr(m, 'out_channels', 0)) == 10:
            last = m
    return [last] if last is not None else []


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def theirs(tp, model, shape, limit):
    """Seconds of Torch-Pruning's graph + 50% L1 pruning step (in place),
    or a short failure string."""
    x = torch.randn(1, *shape)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit)
    t0 = time.perf_counter()
    try:
        pruner = tp.pruner.MetaPruner(
            model, x, importance=tp.importance.MagnitudeImportance(p=1),
            pruning_ratio=0.5, ignored_layers=_classifier(model),
            forward_fn=default_forward)
        pruner.step()
        dt = time.perf_counter() - t0
        with torch.no_grad():
            default_forward(model.eval(), x)
        return dt
    except _Timeout:
        return f'timeout {limit}s'
    except Exception as e:  # noqa: B902  (report, go on)
        return f'fails: {type(e).__name__}'
    finally:
        signal.alarm(0)


def _zoo(args):
    models = {}
    if not args.big_only and not args.no_zoo:
        from mmrazor_ext.testing.model_zoo import ALL_MODELS
        models.update(ALL_MODELS)
    if not args.no_big:
        models.update(BIG)
    if args.models:
        want = args.models.split(',')
        models = {n: v for n, v in {**models, **BIG}.items() if n in want}
    return models


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--models', default='', help='comma-separated names')
    ap.add_argument('--big-only', action='store_true')
    ap.add_argument('--no-zoo', action='store_true')
    ap.add_argument('--no-big', action='store_true')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--limit', type=int, default=300,
                    help='seconds before a Torch-Pruning run is abandoned')
    ap.add_argument('--json', default='')
    ap.add_argument('--latency', action='store_true')
    ap.add_argument('--export-check', default='keep_whole',
                    choices=('keep_whole', 'strict', 'off'),
                    help="the pruner's export_check (default: its default)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter('ignore')
    try:
        import torch_pruning as tp
        print(f'Torch-Pruning {tp.__version__}')
    except ImportError:
        tp = None
        print('Torch-Pruning not installed: ours only, no comparison '
              '(pip install torch-pruning==1.6.1 to compare)')
    rows = []
    print(f'{"model":24s} {"trace s":>8s} {"ours s":>8s} {"TP s":>10s} '
          f'{"ours/TP":>8s}', flush=True)
    for name, (build, shape) in _zoo(args).items():
        torch.manual_seed(0)
        model = build().eval()
        spare = copy.deepcopy(model) if tp is not None else None
        trace_s, ours_s = ours(model, shape, args.export_check)
        their = theirs(tp, spare, shape, args.limit) if tp else None
        ratio = ours_s / their if isinstance(their, float) else None
        rows.append(dict(model=name, trace_s=trace_s, ours_s=ours_s,
                         tp_s=their, ratio=ratio))
        their_s = f'{their:10.2f}' if isinstance(their, float) else \
            f'{str(their or "-"):>10s}'
        print(f'{name:24s} {trace_s:8.2f} {ours_s:8.2f} {their_s} '
              f'{ratio if ratio is None else round(ratio, 3)!s:>8s}',
              flush=True)
        del model, spare
        gc.collect()
    print(f'models: {len(rows)}; median trace {statistics.median(r["trace_s"] for r in rows):.2f} s; '  # noqa: E501
          f'median ours {statistics.median(r["ours_s"] for r in rows):.2f} s')
    ratios = [r['ratio'] for r in rows if r['ratio'] is not None]
    if ratios:
        print(f'ours/TP over {len(ratios)} models both ran: median '
              f'{statistics.median(ratios):.3f}, max {max(ratios):.3f}; '
              f'TP failed on {len(rows) - len(ratios)}')
    if args.json:
        from mmrazor_ext.utils.file_io import write_json
        write_json(rows, args.json)
    if args.latency:
        latency_rows()


def latency(model, batch, size, reps):
    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        model(x)
        t = time.perf_counter()
        for _ in range(reps):
            model(x)
    return (time.perf_counter() - t) / reps


def latency_rows(size=224):
    model = torchvision.models.resnet50(weights=None).eval()
    pruner = build_pruner(dict(type='ChannelPruner', input_shape=(
        3, size, size), divisor=8))
    pruner.prepare_from_supernet(model)
    sub = pruner.sample_subnet_flops(0.5, pruner.get_metric_local('L1Metric'))
    pruner.set_subnet(sub)
    small = pruner.export().eval()
    pruner.set_subnet({})
    f0, f1 = pruner.flops_params()[0], pruner.flops_params(sub)[0]
    print(f'resnet50 exported: FLOPs {f1 / 1e9:.2f} / {f0 / 1e9:.2f} G '
          f'({f1 / f0:.3f})')
    for batch, reps in ((1, 20), (32, 3)):
        a = latency(model, batch, size, reps)
        b = latency(small, batch, size, reps)
        print(f'resnet50 batch {batch:2d}: unpruned {a * 1e3:8.1f} ms  '
              f'exported {b * 1e3:8.1f} ms  ratio {b / a:.3f}')


if __name__ == '__main__':
    main()
