"""Measuring a latency table on the target runtime, once per model,
runtime, threads, batch and machine.

ONNX Runtime (the default): each entry is a one-node ONNX graph (the
layer at one pair of widths) run in a profiling session; the entry is the
node's median kernel time from ORT's profile (not the call's wall time,
which adds the session's overhead and the layout reorders a one-node
graph needs and a whole model does not), minus what profiling adds per
node (measured on a chain of 1x1 convolutions: profiled kernel time
against the wall-time slope per node). The entries run in the order of
random candidates' layers (:func:`in_model_order`): run round-robin over
hundreds of entries, a layer with large weights finds them evicted from
the caches and took twice its time in a model (MobileNetV2's last 1x1
convolutions: 52 against 23 us). Eager PyTorch: each entry is the layer
module's wall time minus an ``nn.Identity`` call's, interleaved.

A few calibration models (uniform widths, all removable blocks removed)
are timed, each beside the unpruned model (``latency_timing.py``). The entries are then scaled by
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
from typing import Callable, Dict, Sequence

import numpy as np
import torch
from torch import nn

from ..deploy.runtimes import (check_backends, make_runner,
                               onnxruntime_session, torch_runner)
from ..engine.latency import machine_load, time_runners, torch_threads
from ..utils import UserInputError
from .latency_candidates import (calibration_candidates, candidate_model,
                                 first_channels, random_candidates)
from .latency_layers import (chain_onnx, entry_keys, input_shape_of,
                             onnx_layer, torch_layer)
from .latency_table import machine
from .latency_timing import LOW, PairTimer

RUNTIMES = ('onnxruntime', 'torch')
_CHAIN = (1, 33)  # lengths of the chains that measure profiling's cost
_REORDER = ('ReorderInput', 'ReorderOutput')


def check_runtime(runtime) -> str:
    """``runtime`` if it is one the table can be measured on and it is
    installed; a one-line error otherwise."""
    if runtime not in RUNTIMES:
        raise UserInputError(f'runtime {runtime!r} is not one of '
                             f'{", ".join(RUNTIMES)}')
    check_backends([runtime])
    return runtime


def _profiled_session(path: str, threads: int, folder: str):
    """An ONNX Runtime session as ``make_runner`` builds it, profiling."""
    return onnxruntime_session(path, threads,
                               osp.join(folder, osp.basename(path)))


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


def measure_table(pruner, space, specs, needed: Sequence[str],
                  runtime: str, threads: int, batch: int,
                  runs: int = 10, seed: int = 0, min_time: float = 0.3,
                  log: Callable = print) -> dict:
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
        log(f'latency table: {len(needed)} entries on {runtime} ({threads} '
            f'thread(s), batch {batch}), each run >= {runs} times in the '
            f'order of random candidates\' layers; {len(calib)} calibration '
            'models timed beside the unpruned model')
        overhead = _entry_overhead(runtime, folder, threads, batch,
                                   profiled)
        if runtime == 'onnxruntime':
            in_model_order(space, specs, runners, runs, seed)
            raw = {k: kernel_ms(s) - overhead for k, s in profiled.items()}
        else:  # eager: wall times of the layers, interleaved
            stats = time_runners(runners, shape, (batch, ), min_time=0.0,
                                 min_repeats=runs)[f'batch_{batch}']
            raw = {k: v[LOW] - overhead for k, v in stats.items()}
        timer = PairTimer(candidate_model(pruner, space.blocks, {}, []),
                          shape, runtime, threads, batch, folder, min_time)
        wall = timer.measure({
            name: candidate_model(pruner, space.blocks,
                                  first_channels(space, kept), removed)
            for name, kept, removed in calib[1:]})
    raw = {k: max(v, 1e-4) for k, v in raw.items()}
    return _fit(pruner, space, specs, raw, calib, wall, dict(
        runtime=runtime, threads=threads, batch=batch,
        input_shape=list(shape), machine=machine(), runs=runs,
        overhead_per_entry_ms=round(overhead, 5),
        measured_at=time.strftime('%Y-%m-%d %H:%M:%S'),
        load_average=load['load_average'], cpus=load['cpus'],
        seconds=round(time.time() - t0, 2)))


def _entry_overhead(runtime, folder, threads, batch, profiled) -> float:
    """What each entry's time holds that a layer inside a model does not
    cost (ms): profiling's cost per node (ONNX Runtime: a chain of 1x1
    convolutions, profiled kernel time per node against the wall-time
    slope per node), or a call of an empty module (eager)."""
    if runtime != 'onnxruntime':
        x = torch.randn(batch, 1)
        ident = _fixed_input(torch_runner(nn.Identity()), x)
        stats = time_runners({'identity': ident}, (1, ), (batch, ),
                             min_time=0.2)
        return stats[f'batch_{batch}']['identity'][LOW]
    runners, x = {}, torch.randn(1, 16, 2, 2)
    for n in _CHAIN:
        path = chain_onnx(osp.join(folder, f'chain{n}.onnx'), n)
        runners[n] = _fixed_input(
            make_runner('onnxruntime', onnx_path=path, threads=threads), x)
    session = _profiled_session(path, threads, folder)
    runners['profiled'] = _session_runner(session, x)
    stats = time_runners(runners, (1, ), (1, ), min_time=0.2,
                         min_repeats=50)['batch_1']
    slope = (stats[_CHAIN[1]][LOW] - stats[_CHAIN[0]][LOW]) / (
        _CHAIN[1] - _CHAIN[0])
    return kernel_ms(session) / _CHAIN[1] - slope


def in_model_order(space, specs, runners: Dict[str, Callable], runs: int,
                   seed: int, max_rounds: int = 20000) -> int:
    """Call every runner at least ``runs`` times, as a model would: round
    after round, the entries of one random candidate's layers in forward
    order (so a layer finds in the caches what it finds in a model: the
    weights of the layers before it, not of hundreds of other entries).
    Entries no random candidate reached after ``max_rounds`` run on their
    own. Returns the rounds run."""
    rng = random.Random(seed)
    count = dict.fromkeys(runners, 0)
    lacking, rounds, draws = set(runners), 0, 0
    pruner = space.pruner
    while lacking and draws < max_rounds:
        draws += 1
        genome = [rng.randrange(c) for c in space.num_choices]
        keep = pruner.keep_vector(first_channels(space, space.kept(genome)))
        keys = entry_keys(specs, keep, space.removed(genome))
        if rounds >= 20 * runs and lacking.isdisjoint(keys):
            continue  # what is left is rare: draw until a candidate has it
        for key in keys:
            runners[key](None)
            count[key] += 1
            if count[key] >= runs:
                lacking.discard(key)
        rounds += 1
    for key in lacking:
        for _ in range(runs - count[key]):
            runners[key](None)
    return rounds


def _fit(pruner, space, specs, raw, calib, wall, meta) -> dict:
    """Scale the raw entries by the least-squares factor through the
    unpruned model's point, and set the constant there."""
    sums = []
    for name, kept, removed in calib:
        keep = pruner.keep_vector(first_channels(space, kept))
        sums.append(sum(raw[k] for k in entry_keys(specs, keep, removed)))
    measured = [wall[name]['ms'] for name, _, _ in calib]
    ds = np.array(sums[1:]) - sums[0]
    dm = np.array(measured[1:]) - measured[0]
    scale = float(ds @ dm / (ds @ ds)) if len(ds) and ds @ ds > 0 else 1.0
    scale = min(max(scale, 0.5), 2.0)
    constant = measured[0] - scale * sums[0]
    calibration = [dict(name=n, measured_ms=round(m, 4),
                        predicted_ms=round(scale * s + constant, 4),
                        measured_ratio=round(wall[n].get('ratio', 1.0), 4))
                   for (n, _, _), s, m in zip(calib, sums, measured)]
    return dict(meta, entries={k: scale * v for k, v in raw.items()},
                raw_entries=raw, scale=round(scale, 4),
                constant_ms=constant, unpruned_ms=measured[0],
                calibration=calibration)


def validate(table, pruner, space, num: int, seed: int, min_time: float,
             log: Callable = print) -> dict:
    """Predicted against measured latency of ``num`` random candidates,
    each exported and timed beside the unpruned model (a pair per session,
    see ``latency_timing.py``): relative errors ``|predicted - measured|
    / measured``. The ``load_corrected_*`` errors first scale each
    measured latency by the table's unpruned latency over the one timed
    in its pair (what a change of load since the table was measured
    would shift)."""
    d = table.data
    cands = random_candidates(space, num, seed)
    log(f'latency table: validating on {num} random candidates (exported, '
        'each timed beside the unpruned model)')
    load = machine_load()
    models, preds = {}, []
    for i, (kept, removed) in enumerate(cands):
        sub = first_channels(space, kept)
        models[f'c{i}'] = candidate_model(pruner, space.blocks, sub, removed)
        preds.append(table.predict(pruner.keep_vector(sub), removed))
    with tempfile.TemporaryDirectory(prefix='latency_check_') as folder:
        timer = PairTimer(candidate_model(pruner, space.blocks, {}, []),
                          pruner.input_shape, d['runtime'], d['threads'],
                          d['batch'], folder, min_time)
        ms = timer.measure(models)
    rows, errs, corrected = [], [], []
    for i, ((kept, removed), pred) in enumerate(zip(cands, preds)):
        m = ms[f'c{i}']
        scaled = m['ms'] * table.unpruned_ms / m['unpruned_ms']
        errs.append(abs(pred - m['ms']) / m['ms'])
        corrected.append(abs(pred - scaled) / scaled)
        rows.append(dict(kept=kept, blocks_removed=removed,
                         predicted_ms=round(pred, 4),
                         measured_ms=round(m['ms'], 4),
                         unpruned_ms=round(m['unpruned_ms'], 4),
                         relative_error=round(errs[-1], 4)))
    return dict(
        candidates=num, seed=seed,
        median_relative_error=round(float(np.median(errs)), 4),
        max_relative_error=round(float(np.max(errs)), 4),
        load_corrected_median_relative_error=round(
            float(np.median(corrected)), 4),
        load_corrected_max_relative_error=round(
            float(np.max(corrected)), 4),
        unpruned_ms_this_session=round(ms['unpruned']['ms'], 4),
        load_average=load['load_average'], rows=rows)
