"""Whole models timed for a latency table (its calibration and
validation) and for the search's references: each model interleaved with
the unpruned model alone, one pair per session, through the engine's
timer and the deploy runners.

Why pairs: a model's latency depends on what else ran in between. Timed
interleaved with 20 other models, MobileNetV2 (9 MB of weights) took
1.00 ms where it took 0.50 ms alone or beside the unpruned model only
(the others' weights evict its own from the caches). A pair is also what
the train stage's report times (unpruned against exported), so the
search's latencies and the report's agree.

A model's latency is the first quartile of its runs (:data:`LOW`): on a
shared machine a run longer than a scheduler slice is often preempted, so
the median of a 2 ms model is inflated far more than the median of a
0.1 ms one (measured: ResNet-56 at 4-6 ms by the median while 1.8 ms
undisturbed); the first quartile stays at the undisturbed runs while fewer
than three runs in four are preempted.
"""
import os.path as osp
import statistics
from typing import Dict, Tuple

from torch import nn

from ..deploy.onnx_export import export_onnx
from ..deploy.runtimes import make_runner
from ..engine.latency import time_runners, torch_threads

#: The statistic of a model's runs taken as its latency.
LOW = 'q1'
BASE = 'unpruned'


class PairTimer:
    """Models exported once, then each timed beside the unpruned model.

    Args:
        unpruned (nn.Module): The unpruned model.
        input_shape: ``(C, H, W)`` of one image.
        runtime (str): ``'onnxruntime'`` or ``'torch'``.
        threads (int): Threads of the runtime.
        batch (int): Batch size.
        folder (str): Where the ONNX files go.
        min_time (float): Seconds each model of a pair is timed.
    """

    def __init__(self, unpruned: nn.Module, input_shape, runtime: str,
                 threads: int, batch: int, folder: str,
                 min_time: float = 0.3):
        self.shape, self.runtime = tuple(input_shape), runtime
        self.threads, self.batch = threads, batch
        self.folder, self.min_time = folder, min_time
        self.runners = {}
        self.add(BASE, unpruned)

    def add(self, name: str, model: nn.Module) -> None:
        """Export ``model`` (an ONNX runtime) and keep its runner."""
        path = osp.join(self.folder, f'{name}.onnx')
        model = model.cpu().eval()
        if self.runtime != 'torch':
            export_onnx(model, self.shape, path)
        self.runners[name] = make_runner(self.runtime, model, path,
                                         self.threads)

    def pair(self, name: str) -> Tuple[float, float]:
        """``(ms of name, ms of the unpruned model)`` timed interleaved."""
        runners = {BASE: self.runners[BASE], name: self.runners[name]}
        with torch_threads(self.threads):
            stats = time_runners(runners, self.shape, (self.batch, ),
                                 min_time=self.min_time, min_repeats=20)
        s = stats[f'batch_{self.batch}']
        return s[name][LOW], s[BASE][LOW]

    def measure(self, models: Dict[str, nn.Module]) -> dict:
        """Time each of ``models`` in a pair. Returns ``{name: {'ms',
        'unpruned_ms', 'ratio'}}`` and, under ``'unpruned'``, the median
        of the unpruned model's latencies over the pairs."""
        out, base = {}, []
        for name, model in models.items():
            self.add(name, model)
            ms, ref = self.pair(name)
            out[name] = dict(ms=ms, unpruned_ms=ref, ratio=ms / ref)
            base.append(ref)
        out[BASE] = dict(ms=statistics.median(base) if base else
                         self.pair(BASE)[1])
        return out
