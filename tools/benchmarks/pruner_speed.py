"""Pruner benchmark: tracing + grouping time, and the CPU speed-up of an
exported ResNet-50 at 50% FLOPs. Prints figures; not a test.

    python tools/benchmarks/pruner_speed.py [--input-size 224] [--threads 2]
"""
import argparse
import time
import warnings

import torch
import torchvision
from mmrazor.models.builder import build_pruner

import mmrazor_ext  # noqa: F401


def latency(model, batch, size, reps):
    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        model(x)
        t = time.perf_counter()
        for _ in range(reps):
            model(x)
    return (time.perf_counter() - t) / reps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--trace-size', type=int, default=64)
    ap.add_argument('--input-size', type=int, default=224)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter('ignore')
    shape = (3, args.trace_size, args.trace_size)
    print(f'threads={args.threads} trace input={shape}')
    for name in ('resnet152', 'densenet121', 'mobilenet_v2'):
        model = getattr(torchvision.models, name)(weights=None)
        pruner = build_pruner(dict(type='ChannelPruner', input_shape=shape))
        t = time.perf_counter()
        pruner.prepare_from_supernet(model)
        dt = time.perf_counter() - t
        print(f'trace+group {name:12s} {dt:6.2f} s  '
              f'({len(pruner.prunable_spaces)}/{len(pruner.channel_spaces)}'
              ' spaces prunable)')
    model = torchvision.models.resnet50(weights=None).eval()
    pruner = build_pruner(dict(type='ChannelPruner', input_shape=(
        3, args.input_size, args.input_size), divisor=8))
    pruner.prepare_from_supernet(model)
    sub = pruner.sample_subnet_flops(0.5, pruner.get_metric_local('L1Metric'))
    pruner.set_subnet(sub)
    small = pruner.export().eval()
    pruner.set_subnet({})
    f0, f1 = pruner.flops_params()[0], pruner.flops_params(sub)[0]
    print(f'resnet50 exported: FLOPs {f1 / 1e9:.2f} / {f0 / 1e9:.2f} G '
          f'({f1 / f0:.3f})')
    for batch, reps in ((1, 20), (32, 3)):
        a = latency(model, batch, args.input_size, reps)
        b = latency(small, batch, args.input_size, reps)
        print(f'resnet50 batch {batch:2d}: unpruned {a * 1e3:8.1f} ms  '
              f'exported {b * 1e3:8.1f} ms  ratio {b / a:.3f}')


if __name__ == '__main__':
    main()
