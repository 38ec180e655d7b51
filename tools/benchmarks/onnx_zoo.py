"""ONNX over the pruner zoo: each model of mmrazor_ext/testing/model_zoo.py
(random init, BN calibrated) pruned to 50% of its FLOPs (ChannelPruner
defaults, uniform L1), exported to ONNX (exporter ``auto``: TorchScript,
dynamo when that fails; dynamic batch axis) and run in ONNX Runtime on a
batch of 3 random images (the export's example batch is 2). Prints the
markdown table docs/deploy.md shows; not a test (about 51 exports).

    nice -n 5 python tools/benchmarks/onnx_zoo.py [--models a,b]
        [--exporter auto] [--json out.json]

A model passes when ONNX Runtime's output equals the exported PyTorch
model's within 1e-4 of the output's max |value|. A failure names the op
and the module (export) or the runtime's message.
"""
import argparse
import json
import os
import sys
import tempfile
import time
import warnings

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, ROOT)  # this checkout's package
import mmrazor_ext  # noqa: E402,F401  (before mmrazor.models)

from mmrazor_ext.deploy import (compare_outputs, export_onnx,  # noqa: E402
                                make_runner)
from mmrazor_ext.pruners import ChannelPruner  # noqa: E402
from mmrazor_ext.testing.model_zoo import ALL_MODELS, calibrate_bn  # noqa


def check(name, exporter, folder):
    """One row: FLOPs kept, exporter, the equality figure, or the failure."""
    build, shape = ALL_MODELS[name]
    torch.manual_seed(0)
    model = calibrate_bn(build(), shape)
    pruner = ChannelPruner(input_shape=shape)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter('always')
        pruner.prepare_from_supernet(model)
        scores = pruner.get_metric_local('L1Metric')
        subnet = pruner.sample_subnet_flops(0.5, scores, mode='uniform')
    kept = pruner.flops_params(subnet)[0] / pruner.flops_params({})[0]
    small = pruner.export(subnet).eval()
    row = dict(model=name, flops_kept=kept, warnings=[
        str(w.message).splitlines()[0][:120] for w in said
        if 'FLOPs' in str(w.message)])
    path = os.path.join(folder, f'{name}.onnx')
    try:
        info = export_onnx(small, shape, path, exporter)
    except Exception as e:  # noqa: BLE001  the row says why
        return dict(row, ok=False, stage='export', error=str(e))
    row['exporter'] = info['exporter']
    x = torch.randn(3, *shape, generator=torch.Generator().manual_seed(1))
    try:
        out = make_runner('onnxruntime', onnx_path=path)(x)
    except Exception as e:  # noqa: BLE001
        first = (str(e).strip().splitlines() or [''])[0][:200]
        return dict(row, ok=False, stage='onnxruntime',
                    error=f'{type(e).__name__}: {first}')
    ref = make_runner('torch', small)(x)
    eq = compare_outputs(ref, out)
    return dict(row, ok=eq['equal'], stage='equality',
                relative_diff=eq['relative_diff'],
                error=None if eq['equal'] else
                f'outputs differ by {eq["relative_diff"]:.1e} of the max')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--models', type=lambda s: s.split(','),
                   default=list(ALL_MODELS))
    p.add_argument('--exporter', default='auto')
    p.add_argument('--json')
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    t0 = time.time()
    print('| model | FLOPs kept | exporter | ORT = PyTorch (max diff / '
          'max) | failure |\n|---|---|---|---|---|')
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models:
            t = time.time()
            row = check(name, args.exporter, folder)
            row['seconds'] = round(time.time() - t, 1)
            rows.append(row)
            diff = row.get('relative_diff')
            print(f'| {name} | {row["flops_kept"]:.1%} | '
                  f'{row.get("exporter", "-")} | '
                  + (f'{"yes" if row["ok"] else "no"} ({diff:.1e})'
                     if diff is not None else 'no')
                  + f' | {row["error"] or ""} |', flush=True)
    passed = sum(r['ok'] for r in rows)
    print(f'\n{passed} of {len(rows)} export and match in ONNX Runtime '
          f'({time.time() - t0:.0f} s)')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()
