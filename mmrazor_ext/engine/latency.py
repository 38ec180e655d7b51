"""CPU latency of models, timed interleaved so a busy machine slows them
alike."""
import copy
import time
from typing import Dict, Sequence

import torch
from torch import nn

from ..adapters import trace_forward


@torch.no_grad()
def cpu_latency(models: Dict[str, nn.Module], input_shape: Sequence[int],
                batch_sizes=(1, ), min_time: float = 0.5,
                min_repeats: int = 5) -> Dict[str, Dict[str, float]]:
    """Median forward time in ms of each model on CPU, per batch size.

    Models run interleaved (one call each per round); the classifier's
    logits are timed (features + head, no softmax or post-processing).

    Returns:
        ``{'batch_1': {name: ms, ...}, ...}``.
    """
    models = {k: copy.deepcopy(m).cpu().eval() for k, m in models.items()}
    out = {}
    for bs in batch_sizes:
        x = torch.randn(bs, *input_shape)
        times = {k: [] for k in models}
        for m in models.values():  # warm-up
            trace_forward(m, x)
        start = time.perf_counter()
        while (len(times[next(iter(times))]) < min_repeats
               or time.perf_counter() - start < min_time * len(models)):
            for k, m in models.items():
                t0 = time.perf_counter()
                trace_forward(m, x)
                times[k].append(time.perf_counter() - t0)
        out[f'batch_{bs}'] = {k: 1000 * float(torch.tensor(v).median())
                              for k, v in times.items()}
    return out
