"""Coverage table of the pruner over the model zoo (torchvision and mmcls,
mmrazor_ext/testing/model_zoo.py, and a model of every mmcls backbone
family with a config, mmrazor_ext/testing/mmcls_families.py): per model,
after a 50% uniform L1 prune,

- kept params: ``model.parameters()`` of the exported model over the
  unpruned one (about 0.25 when every width is pruned);
- FLOPs: the pruner's unpruned count over torch's ``FlopCounterMode``
  (multiply-adds), and the kept FLOPs fraction;
- params == used: the pruner's unpruned count equals the parameters the
  forward reads;
- masked == exported: the relative max difference of the outputs, and
  whether the masked count equals the count of the exported model traced
  afresh;
- prepare seconds (trace, grouping and the trial export), of which the
  export check (the trial, and the check of the exported 50% model);
- prunable / all spaces, and the spaces the export check kept whole.

Prints a markdown table (for docs/pruner.md). Not a test.

    OMP_NUM_THREADS=1 python tools/benchmarks/zoo_coverage.py \
        [--models a,b] [--ratio 0.5] [--markdown out.md]
"""
import argparse
import os
import sys
import time
import warnings

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, ROOT)  # this checkout's package
import mmrazor_ext  # noqa: E402,F401  (before mmrazor.models)
from mmrazor.models.builder import build_pruner  # noqa: E402

from mmrazor_ext.adapters import trace_forward as default_forward  # noqa: E402
from mmrazor_ext.utils.tensor_compare import relative_error  # noqa: E402

HEADER = ('| model | kept params | FLOPs / torch | kept FLOPs | params == '
          'used | masked vs exported (rel.) | counts equal | prepare s | '
          'check s | prunable spaces | kept whole by the check |\n'
          '|---|---|---|---|---|---|---|---|---|---|---|')


def row(name, build, shape, ratio):
    from mmrazor_ext.testing.model_zoo import (calibrate_bn, reference_macs,
                                               used_param_count)
    torch.manual_seed(0)
    model = calibrate_bn(build(), shape)
    pruner = build_pruner(dict(type='ChannelPruner', input_shape=shape))
    t = time.perf_counter()
    pruner.prepare_from_supernet(model)
    prepare_s = time.perf_counter() - t
    full_flops, full_params = pruner.flops_params({})
    ref = reference_macs(model, shape)
    used = used_param_count(model, shape)
    sub = pruner.sample_subnet_uniform(ratio,
                                       pruner.get_metric_local('L1Metric'))
    pruner.set_subnet(sub)
    small = pruner.export().eval()
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y_masked = default_forward(model.eval(), x)
        y_small = default_forward(small, x)
    rel = relative_error(y_small, y_masked)
    masked = pruner.flops_params()
    again = build_pruner(dict(type='ChannelPruner', input_shape=shape,
                              export_check='off'))
    again.prepare_from_supernet(small)
    whole = [sp.name for sp in pruner.channel_spaces
             if sp.reason.startswith('the exported model')]
    n_full = sum(p.numel() for p in model.parameters())
    n_small = sum(p.numel() for p in small.parameters())
    return (f'| {name} | {n_small / n_full:.3f} | {full_flops / ref:.4f} | '
            f'{masked[0] / full_flops:.3f} | '
            f'{"yes" if full_params == used else f"no ({full_params}/{used})"}'
            f' | {rel:.1e} | '
            f'{"yes" if masked == again.flops_params({}) else "NO"} | '
            f'{prepare_s:.2f} | {pruner.export_check_seconds:.2f} | '
            f'{len(pruner.prunable_spaces)}/{len(pruner.channel_spaces)} | '
            f'{", ".join(whole) if whole else "none"} |')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--models', default='', help='comma-separated names')
    ap.add_argument('--ratio', type=float, default=0.5)
    ap.add_argument('--markdown', default='', help='also write the table')
    args = ap.parse_args()
    warnings.simplefilter('ignore')
    from mmrazor_ext.testing.mmcls_families import pruner_zoo
    zoo = pruner_zoo()
    names = args.models.split(',') if args.models else list(zoo)
    unknown = [n for n in names if n not in zoo]
    if unknown:
        ap.error(f'unknown models {unknown}; known: {list(zoo)}')
    lines = [HEADER]
    print(HEADER, flush=True)
    for name in names:
        build, shape = zoo[name]
        try:
            line = row(name, build, shape, args.ratio)
        except Exception as e:  # noqa: B902  (a row per model, go on)
            line = f'| {name} | fails: {type(e).__name__}: {e} |'
        lines.append(line)
        print(line, flush=True)
    if args.markdown:
        from mmrazor_ext.utils.file_io import atomic_write
        text = '\n'.join(lines) + '\n'

        def write(tmp):
            with open(tmp, 'w') as f:
                f.write(text)
        atomic_write(args.markdown, write)


if __name__ == '__main__':
    main()
