"""CPU latency of models, timed interleaved so a busy machine slows them
alike, with the spread of the runs and a verdict on whether a comparison
of two models can be trusted."""
import copy
import os
import time
from typing import Dict, Optional, Sequence

import torch
from torch import nn

from ..adapters import predict_forward

#: A spread below this fraction of the median counts as steady timing.
STEADY = 0.05


@torch.no_grad()
def cpu_latency(models: Dict[str, nn.Module], input_shape: Sequence[int],
                batch_sizes=(1, ), min_time: float = 0.5,
                min_repeats: int = 5) -> Dict[str, Dict[str, dict]]:
    """Forward times in ms of each model on CPU, per batch size: median
    and quartiles over the runs.

    Models run interleaved (one call each per round); the classifier's
    logits are timed (features + head, no softmax or post-processing), a
    segmentor's ``forward_dummy`` (no auxiliary head).

    Returns:
        ``{'batch_1': {name: {'median': ms, 'q1': ms, 'q3': ms,
        'runs': n}, ...}, ...}``.
    """
    models = {k: copy.deepcopy(m).cpu().eval() for k, m in models.items()}
    out = {}
    for bs in batch_sizes:
        x = torch.randn(bs, *input_shape)
        times = {k: [] for k in models}
        for m in models.values():  # warm-up
            predict_forward(m, x)
        start = time.perf_counter()
        while (len(times[next(iter(times))]) < min_repeats
               or time.perf_counter() - start < min_time * len(models)):
            for k, m in models.items():
                t0 = time.perf_counter()
                predict_forward(m, x)
                times[k].append(time.perf_counter() - t0)
        out[f'batch_{bs}'] = {k: _summary(v) for k, v in times.items()}
    return out


def _summary(seconds) -> dict:
    ms = torch.tensor(seconds, dtype=torch.float64) * 1000
    q1, med, q3 = torch.quantile(ms, torch.tensor(
        [0.25, 0.5, 0.75], dtype=torch.float64)).tolist()
    return dict(median=med, q1=q1, q3=q3, runs=len(seconds))


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
    difference, or its sign.
    """
    a, b = stats[base], stats[other]
    row = {base: a['median'], other: b['median'],
           'speedup': a['median'] / b['median'],
           'iqr': {base: [a['q1'], a['q3']], other: [b['q1'], b['q3']]},
           'runs': min(a['runs'], b['runs'])}
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
