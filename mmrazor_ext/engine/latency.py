"""CPU latency of models, eager and in runtimes (ONNX Runtime, OpenVINO
when installed), timed interleaved in one process so a busy machine slows
them alike, with the spread of the runs, the thread count and a verdict
on whether a comparison of two models can be trusted. The reports,
``tools/deploy.py`` and the benchmarks all time through here."""
import contextlib
import copy
import os
import tempfile
import time
from typing import Callable, Dict, Optional, Sequence

import torch
from torch import nn

from ..deploy.onnx_export import export_onnx
from ..deploy.runtimes import check_backends, make_runner, torch_runner

#: A spread below this fraction of the median counts as steady timing.
STEADY = 0.05


@contextlib.contextmanager
def torch_threads(threads: Optional[int]):
    """PyTorch's intra-op threads set to ``threads`` (None: unchanged)
    inside the block, restored after it."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


#: Seconds of calls per turn of each model in the reports' timings
#: (:func:`time_runners`'s ``block_time``).
BLOCK_TIME = 0.05


def time_runners(runners: Dict[str, Callable], input_shape: Sequence[int],
                 batch_sizes=(1, ), min_time: float = 0.5,
                 min_repeats: int = 5, cpu_time: bool = False,
                 block_time: float = 0.0) -> Dict[str, Dict[str, dict]]:
    """Times of calls ``runner(x)`` on one random batch per batch size, in
    ms: median and quartiles over the runs. Runners take turns (after one
    warm-up call each) until every runner has ``min_repeats`` runs and
    ``min_time`` seconds per runner have passed.

    A turn is one call when ``block_time`` is 0. Otherwise it is an
    untimed call (when the runner's last call took less than
    ``block_time``), then timed calls until ``block_time`` seconds have
    passed: each runner is timed with its own weights and buffers in the
    caches, as a deployed model runs call after call, while the turns
    still interleave the runners, so a machine whose load changes slows
    them alike. One call per turn instead times each model after the
    others have evicted it from the caches (MobileNetV2 at 224, ONNX
    Runtime, batch 1: about 0.8 ms more per call, for a model of 3-7 ms).

    With ``cpu_time`` the summaries also hold ``cpu_median``: the median
    CPU time of the calling thread per call. It is the call's compute
    time when the runner computes on the calling thread (one thread), and
    leaves out the time other processes held the CPU: on a loaded
    machine, the figure to compare.

    Returns:
        ``{'batch_1': {name: {'median': ms, 'q1': ms, 'q3': ms,
        'runs': n[, 'cpu_median': ms]}, ...}, ...}``.
    """
    out = {}
    for bs in batch_sizes:
        x = torch.randn(bs, *input_shape)
        times = {k: [] for k in runners}
        cpu = {k: [] for k in runners}
        last = {}
        for k, run in runners.items():  # warm-up
            t0 = time.perf_counter()
            run(x)
            last[k] = time.perf_counter() - t0
        start = time.perf_counter()
        while (min(len(v) for v in times.values()) < min_repeats
               or time.perf_counter() - start < min_time * len(runners)):
            for k, run in runners.items():
                if 0 < last[k] < block_time:
                    run(x)  # back in the caches after the others' turns
                turn = time.perf_counter()
                while True:
                    c0, t0 = time.thread_time(), time.perf_counter()
                    run(x)
                    last[k] = time.perf_counter() - t0
                    times[k].append(last[k])
                    cpu[k].append(time.thread_time() - c0)
                    if time.perf_counter() - turn >= block_time:
                        break
        out[f'batch_{bs}'] = {
            k: _summary(v, cpu[k] if cpu_time else None)
            for k, v in times.items()}
    return out


@torch.no_grad()
def cpu_latency(models: Dict[str, nn.Module], input_shape: Sequence[int],
                batch_sizes=(1, ), min_time: float = 0.5,
                min_repeats: int = 5,
                block_time: float = BLOCK_TIME) -> Dict[str, Dict[str, dict]]:
    """Eager forward times in ms of each model on CPU, per batch size
    (:func:`time_runners`): a classifier's logits (features + head, no
    softmax or post-processing), a segmentor's ``forward_dummy`` (no
    auxiliary head)."""
    runners = {k: torch_runner(copy.deepcopy(m)) for k, m in models.items()}
    return time_runners(runners, input_shape, batch_sizes, min_time,
                        min_repeats, block_time=block_time)


def runtime_latency(models: Dict[str, nn.Module], input_shape: Sequence[int],
                    batch_sizes=(1, ), backends=('torch', 'onnxruntime'),
                    threads: Optional[int] = None, min_time: float = 0.5,
                    min_repeats: int = 5, onnx_dir: Optional[str] = None,
                    exporter: str = 'auto',
                    onnx_models: Optional[Sequence[str]] = None,
                    block_time: float = BLOCK_TIME) -> dict:
    """Latency of each model in each backend, all interleaved.

    Each model (of ``onnx_models``; None: all) is exported to ONNX once
    (into ``onnx_dir``, else a temporary folder) for the ONNX backends;
    every backend runs on ``threads`` threads (None: PyTorch's current
    count).

    Returns:
        ``dict(threads=n, backends={backend: {'batch_B': {name:
        summary}}}, onnx={name: export info})``.
    """
    backends = check_backends(backends)
    threads = int(threads or torch.get_num_threads())
    models = {k: copy.deepcopy(m).cpu().eval() for k, m in models.items()}
    with contextlib.ExitStack() as stack:
        folder = onnx_dir or stack.enter_context(
            tempfile.TemporaryDirectory(prefix='latency_'))
        onnx, runners = {}, {}
        for name, model in models.items():
            path = os.path.join(folder, f'{name}.onnx')
            mine = [b for b in backends if b == 'torch' or
                    onnx_models is None or name in onnx_models]
            if any(b != 'torch' for b in mine):
                onnx[name] = export_onnx(model, input_shape, path, exporter)
                if onnx_dir:
                    onnx[name]['path'] = path
            for backend in mine:
                runners[backend, name] = make_runner(backend, model, path,
                                                     threads)
        with torch_threads(threads):  # one thread: it is the caller
            stats = time_runners(runners, input_shape, batch_sizes,
                                 min_time, min_repeats,
                                 cpu_time=threads == 1,
                                 block_time=block_time)
    out = {b: {batch: {name: s[b, name] for name in models
                       if (b, name) in s}
               for batch, s in stats.items()} for b in backends}
    return dict(threads=threads, backends=out, onnx=onnx)


def _summary(seconds, cpu_seconds=None) -> dict:
    ms = torch.tensor(seconds, dtype=torch.float64) * 1000
    q1, med, q3 = torch.quantile(ms, torch.tensor(
        [0.25, 0.5, 0.75], dtype=torch.float64)).tolist()
    out = dict(median=med, q1=q1, q3=q3, runs=len(seconds))
    if cpu_seconds is not None:
        out['cpu_median'] = float(torch.tensor(
            cpu_seconds, dtype=torch.float64).median()) * 1000
    return out


def machine_load() -> dict:
    """The 1-minute load average and the CPUs this process may use."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = None
    return dict(load_average=load, cpus=cpus)


def compare_latency(stats: Dict[str, dict], load: Optional[dict] = None,
                    base: str = 'unpruned', other: str = 'exported') -> dict:
    """The report's row of one batch size: the medians of ``base`` and
    ``other`` and the speedup, their interquartile ranges, and whether
    the comparison is reliable.

    It is not (``reliable`` False, ``caveat`` says why) when the machine
    was loaded (more runnable threads than CPUs: other work took turns
    with the timed calls) or when either model's interquartile range is
    larger than the difference of the medians and not small (over
    ``STEADY`` of its median): the spread alone could then explain the
    difference, or its sign. Timed on one thread, the row also has
    ``cpu_ms`` and ``cpu_speedup``: the same comparison in CPU time of
    the calling thread, which a loaded machine does not inflate.
    """
    a, b = stats[base], stats[other]
    row = {base: a['median'], other: b['median'],
           'speedup': a['median'] / b['median'],
           'iqr': {base: [a['q1'], a['q3']], other: [b['q1'], b['q3']]},
           'runs': min(a['runs'], b['runs'])}
    if 'cpu_median' in a and 'cpu_median' in b:  # one thread (see above)
        row['cpu_ms'] = {base: a['cpu_median'], other: b['cpu_median']}
        row['cpu_speedup'] = a['cpu_median'] / b['cpu_median']
    caveat = None
    load = load or {}
    if load.get('load_average') is not None and \
            load['load_average'] > load['cpus']:
        caveat = (f'machine loaded (load {load["load_average"]:.1f} on '
                  f'{load["cpus"]} CPUs)')
    else:
        diff = abs(a['median'] - b['median'])
        spread = max(a['q3'] - a['q1'], b['q3'] - b['q1'])
        steady = STEADY * min(a['median'], b['median'])
        if spread > max(diff, steady):
            caveat = (f'spread (IQR {spread:.2f} ms) larger than the '
                      f'difference ({diff:.2f} ms)')
    row.update(reliable=caveat is None, caveat=caveat)
    return row


def latency_rows(stats: Dict[str, Dict[str, dict]], load: Optional[dict],
                 base: str = 'unpruned', other: str = 'exported') -> dict:
    """:func:`compare_latency` of ``base`` and ``other`` per batch size of
    ``stats`` (:func:`time_runners`'s output); each other model timed (a
    BN-folded ``deploy`` model) adds its median and quartiles, and its
    comparison with ``other`` (``deploy_speedup``, ``deploy_caveat``)."""
    rows = {}
    for batch, s in stats.items():
        row = compare_latency(s, load, base, other)
        for name, t in s.items():
            if name not in (base, other):
                vs = compare_latency(s, load, base=other, other=name)
                row[name] = t['median']
                row['iqr'][name] = [t['q1'], t['q3']]
                row.update({f'{name}_speedup': vs['speedup'],
                            f'{name}_caveat': vs['caveat']})
        rows[batch] = row
    return rows
