"""Measuring a latency table on the target runtime, once per model,
runtime, threads, batch and machine.

ONNX Runtime (the default): each entry is a one-node ONNX graph (the
layer at one pair of widths) run in a profiling session; the entry is the
node's kernel time from ORT's profile (not the call's wall time, which
adds the session's overhead and the layout reorders a one-node graph
needs and a whole model does not), minus what profiling adds per node
(measured on a chain of 1x1 convolutions: profiled kernel time against
the wall-time slope per node). Eager PyTorch: each entry is the layer
module's wall time minus an ``nn.Identity`` call's.

All entries and a few calibration models (the unpruned model, uniform
widths, all removable blocks removed) run interleaved, round after round,
so a change of load touches them alike. The entries are then scaled by
one factor fitted on the calibration models and the constant makes the
unpruned model's prediction its measured latency. Then the table is
validated: random candidates of the search space, exported, timed
interleaved with the unpruned model, against their predictions.
"""
import collections
import json
import os.path as osp
import random
import statistics
import tempfile
import time
from typing import Callable, Dict, List, Sequence

import numpy as np
import torch
from torch import nn

from ..deploy.onnx_export import export_onnx
from ..deploy.runtimes import check_backends, make_runner, torch_runner
from ..engine.latency import (machine_load, runtime_latency, time_runners,
                              torch_threads)
from ..fusion import remove_blocks
from .latency_layers import (chain_onnx, entry_keys, input_shape_of,
                             onnx_layer, torch_layer)
from .latency_table import machine

RUNTIMES = ('onnxruntime', 'torch')
_CHAIN = (1, 33)  # lengths of the chains that measure profiling's cost
_REORDER = ('ReorderInput', 'ReorderOutput')


def check_runtime(runtime) -> str:
    """``runtime`` if it is one the table can be measured on and it is
    installed; a one-line error otherwise."""
    if runtime not in RUNTIMES:
        from ..utils import UserInputError
        raise UserInputError(f'searcher latency.runtime {runtime!r} is not '
                             f'one of {", ".join(RUNTIMES)}')
    check_backends([runtime])
    return runtime


def _profiled_session(path: str, threads: int, folder: str):
    """An ONNX Runtime session as ``make_runner`` builds it, profiling."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = \
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.enable_profiling = True
    opts.profile_file_prefix = osp.join(folder, osp.basename(path))
    return ort.InferenceSession(path, opts,
                                providers=['CPUExecutionProvider'])


def _fixed_input(run: Callable, x: torch.Tensor) -> Callable:
    """A runner called with the timing loop's input that runs on its own
    ``x`` (one-layer models have their own input shape)."""
    return lambda _: run(x)


def _session_runner(session, x: torch.Tensor) -> Callable:
    name, arr = session.get_inputs()[0].name, x.numpy()
    return lambda _: session.run(None, {name: arr})


def kernel_ms(session, warmup: int = 3) -> float:
    """The median per-run kernel time (ms) of a profiled session's nodes,
    layout reorders left out, summed over its nodes."""
    with open(session.end_profiling()) as f:
        events = json.load(f)
    per_node = collections.defaultdict(list)
    for e in events:
        if e.get('cat') == 'Node' and e.get('name', '').endswith(
                '_kernel_time') and \
                e.get('args', {}).get('op_name') not in _REORDER:
            per_node[e['name']].append(e['dur'])
    return sum(statistics.median(v[warmup:] or v)
               for v in per_node.values()) / 1000.0


def candidate_model(pruner, blocks, subnet, removed) -> nn.Module:
    """The physically pruned candidate: exported widths, blocks removed."""
    model = pruner.export(subnet)
    if removed:
        remove_blocks(model, blocks, removed)
    return model.cpu().eval()


def first_channels(space, kept: Sequence[int]) -> Dict[str, List[int]]:
    """A subnet of the widths ``kept`` (which channels does not matter for
    latency)."""
    return {n: list(range(k)) for n, k in zip(space.names, kept)}


def calibration_candidates(space) -> List[tuple]:
    """``(name, kept, removed)`` of the calibration models: the unpruned
    model first, uniform widths at three levels, each also without every
    removable block."""
    n = space.widths.num_choices
    levels = sorted({n - 1, (2 * n) // 3, n // 3, 0}, reverse=True)
    removals = [[]] + ([list(space.block_names)] if space.blocks else [])
    out, seen = [('unpruned', list(space.sizes), [])], set()
    seen.add((tuple(space.sizes), ()))
    for level in levels:
        for removed in removals:
            kept = space.kept(space.uniform_genome(level, removed))
            if (tuple(kept), tuple(removed)) not in seen:
                seen.add((tuple(kept), tuple(removed)))
                out.append((f'uniform{space.choices[level]:g}' +
                            ('-blocks' if removed else ''), kept, removed))
    return out


def random_candidates(space, num: int, seed: int) -> List[tuple]:
    """``(kept, removed)`` of ``num`` random genomes (each width gene
    uniform over the keep ratios, each block removed with probability
    one half), seeded."""
    rng = random.Random(seed)
    out = []
    for _ in range(num):
        genome = [rng.randrange(c) for c in space.num_choices]
        out.append((space.kept(genome), space.removed(genome)))
    return out


def measure_table(pruner, space, specs, needed: Sequence[str],
                  runtime: str, threads: int, batch: int,
                  rounds: int = 40, log: Callable = print) -> dict:
    """Measure the entries ``needed`` and the constant (see the module
    doc). Returns the table's data (``entries``, ``constant_ms``,
    ``unpruned_ms``, ``scale``, ``calibration``, ...)."""
    t0 = time.time()
    shape = tuple(pruner.input_shape)
    calib = calibration_candidates(space)
    load = machine_load()
    with tempfile.TemporaryDirectory(prefix='latency_table_') as folder, \
            torch_threads(threads):
        runners, profiled = {}, {}
        for i, key in enumerate(needed):
            x = torch.randn(*input_shape_of(key, batch))
            if runtime == 'onnxruntime':
                path = onnx_layer(key, osp.join(folder, f'e{i}.onnx'), batch)
                profiled[key] = _profiled_session(path, threads, folder)
                runners[key] = _session_runner(profiled[key], x)
            else:
                runners[key] = _fixed_input(torch_runner(torch_layer(key)), x)
        base = _overhead_runners(runtime, folder, threads, batch, runners,
                                 profiled)
        for name, kept, removed in calib:
            model = candidate_model(pruner, space.blocks, first_channels(
                space, kept), removed)
            path = osp.join(folder, f'{name}.onnx')
            if runtime == 'onnxruntime':
                export_onnx(model, shape, path)
            runners[name] = make_runner(runtime, model, path, threads)
        log(f'latency table: timing {len(needed)} entries and '
            f'{len(calib)} calibration models on {runtime} ({threads} '
            f'thread(s), batch {batch}), {rounds} interleaved rounds')
        stats = time_runners(runners, shape, (batch, ), min_time=0.0,
                             min_repeats=rounds)[f'batch_{batch}']
        wall = {k: v['median'] for k, v in stats.items()}
        if runtime == 'onnxruntime':
            kernel = {k: kernel_ms(s) for k, s in profiled.items()}
            slope = (wall[base[1]] - wall[base[0]]) / (_CHAIN[1] - _CHAIN[0])
            per_node = kernel[base[1]] / _CHAIN[1]
            overhead = per_node - slope
            raw = {k: kernel[k] - overhead for k in needed}
        else:
            overhead = wall[base[0]]
            raw = {k: wall[k] - overhead for k in needed}
    raw = {k: max(v, 1e-4) for k, v in raw.items()}
    return _fit(pruner, space, specs, raw, calib, wall, dict(
        runtime=runtime, threads=threads, batch=batch,
        input_shape=list(shape), machine=machine(), rounds=rounds,
        overhead_per_entry_ms=round(overhead, 5),
        measured_at=time.strftime('%Y-%m-%d %H:%M:%S'),
        load_average=load['load_average'], cpus=load['cpus'],
        seconds=round(time.time() - t0, 2)))


def _overhead_runners(runtime, folder, threads, batch, runners, profiled):
    """Add the runners that measure the per-entry overhead to subtract;
    return their names."""
    if runtime != 'onnxruntime':
        x = torch.randn(batch, 1)
        runners['#identity'] = _fixed_input(torch_runner(nn.Identity()), x)
        return ('#identity', )
    names = []
    for n in _CHAIN:
        path = chain_onnx(osp.join(folder, f'chain{n}.onnx'), n)
        x = torch.randn(1, 16, 2, 2)
        runners[f'#chain{n}'] = _fixed_input(
            make_runner('onnxruntime', onnx_path=path, threads=threads), x)
        names.append(f'#chain{n}')
    path = osp.join(folder, f'chain{_CHAIN[1]}.onnx')
    profiled[names[1]] = _profiled_session(path, threads, folder)
    runners['#profiled'] = _session_runner(profiled[names[1]],
                                           torch.randn(1, 16, 2, 2))
    return tuple(names)


def _fit(pruner, space, specs, raw, calib, wall, meta) -> dict:
    """Scale the raw entries by the least-squares factor through the
    unpruned model's point, and set the constant there."""
    sums = []
    for name, kept, removed in calib:
        keep = pruner.keep_vector(first_channels(space, kept))
        sums.append(sum(raw[k] for k in entry_keys(specs, keep, removed)))
    measured = [wall[name] for name, _, _ in calib]
    ds = np.array(sums[1:]) - sums[0]
    dm = np.array(measured[1:]) - measured[0]
    scale = float(ds @ dm / (ds @ ds)) if len(ds) and ds @ ds > 0 else 1.0
    scale = min(max(scale, 0.5), 2.0)
    constant = measured[0] - scale * sums[0]
    calibration = [dict(name=n, measured_ms=round(m, 4),
                        predicted_ms=round(scale * s + constant, 4))
                   for (n, _, _), s, m in zip(calib, sums, measured)]
    return dict(meta, entries={k: scale * v for k, v in raw.items()},
                raw_entries=raw, scale=round(scale, 4),
                constant_ms=constant, unpruned_ms=measured[0],
                calibration=calibration)


def validate(table, pruner, space, num: int, seed: int, min_time: float,
             log: Callable = print) -> dict:
    """Predicted against measured latency of ``num`` random candidates,
    each exported and timed interleaved with the unpruned model: relative
    errors ``|predicted - measured| / measured``. The ``load_corrected_*``
    errors scale the measured latencies by the table's unpruned latency
    over this session's (what a change of load between the two
    measurements would shift)."""
    d = table.data
    cands = random_candidates(space, num, seed)
    models = {'unpruned': candidate_model(pruner, space.blocks, {}, [])}
    preds = []
    for i, (kept, removed) in enumerate(cands):
        sub = first_channels(space, kept)
        models[f'c{i}'] = candidate_model(pruner, space.blocks, sub, removed)
        preds.append(table.predict(pruner.keep_vector(sub), removed))
    log(f'latency table: validating on {num} random candidates '
        f'(exported, timed interleaved with the unpruned model)')
    load = machine_load()
    res = runtime_latency(models, pruner.input_shape, (d['batch'], ),
                          backends=(d['runtime'], ), threads=d['threads'],
                          min_time=min_time)
    ms = res['backends'][d['runtime']][f'batch_{d["batch"]}']
    base = ms['unpruned']['median']
    scale = table.unpruned_ms / base
    rows, errs, corrected = [], [], []
    for i, ((kept, removed), pred) in enumerate(zip(cands, preds)):
        meas = ms[f'c{i}']['median']
        errs.append(abs(pred - meas) / meas)
        corrected.append(abs(pred - scale * meas) / (scale * meas))
        rows.append(dict(kept=kept, blocks_removed=removed,
                         predicted_ms=round(pred, 4),
                         measured_ms=round(meas, 4),
                         relative_error=round(errs[-1], 4)))
    return dict(
        candidates=num, seed=seed,
        median_relative_error=round(float(np.median(errs)), 4),
        max_relative_error=round(float(np.max(errs)), 4),
        load_corrected_median_relative_error=round(
            float(np.median(corrected)), 4),
        load_corrected_max_relative_error=round(
            float(np.max(corrected)), 4),
        unpruned_ms_this_session=round(base, 4),
        load_average=load['load_average'], rows=rows)
