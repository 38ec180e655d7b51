"""Deploy latency: how much faster a pruned model runs in ONNX Runtime (and
eager PyTorch) than the unpruned one, per FLOPs target, sampling mode and
width divisor. Prints the markdown table docs/deploy.md shows; not a test.

    nice -n 5 python tools/benchmarks/deploy_latency.py \\
        [--models resnet50,mobilenetv2,resnet20,resnet56] \\
        [--targets 0.5,0.7] [--modes uniform,diff] [--divisors 16] \\
        [--batch-sizes 1,32] [--backends onnxruntime,torch] [--threads 1] \\
        [--min-time 1.0] [--json out.json]

Each model (random init, BN statistics drawn at random so folding is not
trivial) is pruned by ``ChannelPruner`` with its defaults except
``divisor``, L1 scores, ``sample_subnet_flops(target, mode=...)``, BN
folded, exported to ONNX; the unpruned model and every pruned variant of
it are timed interleaved in one process (``engine.latency``), so a busy
machine slows them alike. ``x`` is unpruned median / pruned median; a row
marked ``*`` is unreliable (machine loaded, or spread larger than the
difference): see the load average printed with the table.
"""
import argparse
import json
import os
import sys
import time
import warnings

import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, ROOT)  # this checkout's package
import mmrazor_ext  # noqa: E402,F401  (before mmrazor.models)
from mmcls.models import build_classifier  # noqa: E402

from mmrazor_ext.engine.latency import (latency_rows, machine_load,  # noqa
                                        runtime_latency)
from mmrazor_ext.fusion import fold_bn  # noqa: E402
from mmrazor_ext.pruners import ChannelPruner  # noqa: E402

GAP = dict(type='GlobalAveragePooling')


def _cls(backbone, channels, classes):
    return build_classifier(dict(
        type='ImageClassifier', backbone=backbone, neck=GAP,
        head=dict(type='LinearClsHead', num_classes=classes,
                  in_channels=channels)))


MODELS = {  # name -> (builder, input (C, H, W))
    'resnet50': (lambda: _cls(dict(type='ResNet', depth=50), 2048, 1000),
                 (3, 224, 224)),
    'mobilenetv2': (lambda: _cls(dict(type='MobileNetV2'), 1280, 1000),
                    (3, 224, 224)),
    # the digits configs' CIFAR ResNets (32x32 inputs, 10 classes)
    'resnet20': (lambda: _cls(dict(type='CifarResNet', depth=20), 64, 10),
                 (3, 32, 32)),
    'resnet56': (lambda: _cls(dict(type='CifarResNet', depth=56), 64, 10),
                 (3, 32, 32)),
}


def build(name):
    torch.manual_seed(0)
    model = MODELS[name][0]()
    for m in model.modules():  # trained-looking BN statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    return model.eval()


def variants(name, targets, modes, divisors):
    """``{label: model}``: the unpruned model and each pruned variant, BN
    folded; ``{label: FLOPs kept}``."""
    shape = MODELS[name][1]
    pruner = ChannelPruner(input_shape=shape)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        pruner.prepare_from_supernet(build(name))
    scores = pruner.get_metric_local('L1Metric')
    full = pruner.flops_params({})[0]
    models = {'unpruned': fold_bn(pruner.export({}), shape)[0]}
    kept = {}
    for target in targets:
        for mode in modes:
            for d in divisors:
                pruner.divisor = d
                with warnings.catch_warnings(record=True) as said:
                    warnings.simplefilter('always')
                    sub = pruner.sample_subnet_flops(target, scores, mode)
                label = f'{target:g} {mode} d{d}'
                kept[label] = pruner.flops_params(sub)[0] / full
                if any('pruned too' in str(w.message) for w in said):
                    label += ' split'  # narrow spaces had to be pruned
                    kept[label] = kept.pop(label[:-6])
                models[label] = fold_bn(pruner.export(sub), shape)[0]
    return models, kept


def run(args):
    out = {}
    load_before = machine_load()
    for name in args.models:
        t0 = time.time()
        models, kept = variants(name, args.targets, args.modes,
                                args.divisors)
        timing = runtime_latency(
            models, MODELS[name][1], args.batch_sizes,
            backends=args.backends, threads=args.threads,
            min_time=args.min_time, min_repeats=args.repeats)
        load = machine_load()
        rows = {}
        for backend, stats in timing['backends'].items():
            for batch, s in stats.items():
                for label in kept:
                    row = latency_rows({batch: s}, load, 'unpruned',
                                       label)[batch]
                    rows.setdefault(label, {})[f'{backend} {batch}'] = row
        out[name] = dict(kept=kept, rows=rows, load=load,
                         seconds=round(time.time() - t0, 1))
        print(table(name, out[name], args), flush=True)
    print(f'\nthreads {args.threads}; 1-minute load average '
          f'{load_before["load_average"]:.1f} before, '
          f'{machine_load()["load_average"]:.1f} after, on '
          f'{load_before["cpus"]} CPUs')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1)


def table(name, res, args):
    cols = [f'{b} batch_{n}' for b in args.backends for n in
            args.batch_sizes]
    lines = [f'\n{name} {MODELS[name][1]} ({res["seconds"]} s, load '
             f'{res["load"]["load_average"]:.1f})',
             '| FLOPs removed, mode, divisor | FLOPs kept | ' +
             ' | '.join(c.replace('onnxruntime', 'ORT').replace(
                 'torch', 'eager') for c in cols) + ' |',
             '|---|---|' + '---|' * len(cols)]
    for label, kept in res['kept'].items():
        cells = []
        for c in cols:
            row = res['rows'][label][c]
            mark = '' if row['reliable'] else '*'
            cells.append(f'{row[label]:.2f} ms (x{row["speedup"]:.2f})'
                         f'{mark}')
        lines.append(f'| {label} | {kept:.1%} | ' + ' | '.join(cells) + ' |')
    base = res['rows'][next(iter(res['kept']))]
    lines.append('| unpruned | 100% | ' + ' | '.join(
        f'{base[c]["unpruned"]:.2f} ms' for c in cols) + ' |')
    return '\n'.join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])

    def floats(s):
        return [float(x) for x in s.split(',')]

    def ints(s):
        return [int(x) for x in s.split(',')]

    p.add_argument('--models', type=lambda s: s.split(','),
                   default=list(MODELS))
    p.add_argument('--targets', type=floats, default=[0.5, 0.7],
                   help='fractions of FLOPs removed')
    p.add_argument('--modes', type=lambda s: s.split(','),
                   default=['uniform', 'diff'])
    p.add_argument('--divisors', type=ints, default=[16])
    p.add_argument('--batch-sizes', type=ints, default=[1, 32])
    p.add_argument('--backends', type=lambda s: s.split(','),
                   default=['onnxruntime', 'torch'])
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--min-time', type=float, default=1.0,
                   help='seconds of timing per model, backend and batch')
    p.add_argument('--repeats', type=int, default=5,
                   help='at least this many runs of each')
    p.add_argument('--json', help='write every figure here')
    return p.parse_args(argv)


if __name__ == '__main__':
    run(parse_args())
