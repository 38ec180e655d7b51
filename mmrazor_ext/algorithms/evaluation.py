"""Data loaders, accuracy and CPU latency for the algorithms' own
measurements (outside the runner's training loop)."""
import copy
import time
from typing import Dict, Sequence

import torch
import torch.distributed as dist
from mmcls.datasets import build_dataloader, build_dataset
from mmcv.runner import get_dist_info
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..apis import multi_process_test, single_device_test
from ..metrics.collection import split_batch


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and \
        dist.get_world_size() > 1


def build_loader(data_cfg, split: str, seed: int = 0):
    """A loader over ``data_cfg[split]`` ('train': shuffled; 'val' /
    'test': in order, test mode), split across ranks when distributed."""
    test_mode = split != 'train'
    dataset = build_dataset(data_cfg[split], dict(test_mode=True)
                            if test_mode else None)
    return build_dataloader(
        dataset, samples_per_gpu=data_cfg.get('samples_per_gpu', 32),
        workers_per_gpu=data_cfg.get('workers_per_gpu', 0), num_gpus=1,
        dist=is_distributed(), shuffle=not test_mode, round_up=True,
        seed=seed, persistent_workers=False,
        pin_memory=torch.cuda.is_available())


class _OnDevice(nn.Module):
    """Moves a test batch's images to the model's device."""

    def __init__(self, model: nn.Module, device):
        super().__init__()
        self.model, self.device = model, device

    def forward(self, img, return_loss=False, **kwargs):
        return self.model(img.to(self.device), return_loss=False, **kwargs)


def evaluate(model: nn.Module, loader, topk=(1, 5)) -> Dict[str, float]:
    """``{'top-1': %, 'top-5': %}`` of an mmcls classifier on ``loader``
    (a collective when distributed: call it on every rank)."""
    param = next(model.parameters())
    wrapped = _OnDevice(model, param.device)
    was_training = model.training
    if is_distributed():
        results = multi_process_test(wrapped, loader)
    else:
        results = single_device_test(wrapped, loader, progress_scale=0)
    model.train(was_training)
    num_classes = len(results[0]) if results else max(topk)
    topk = tuple(k for k in topk if k <= num_classes)
    res = loader.dataset.evaluate(results, metric='accuracy',
                                  metric_options=dict(topk=topk))
    return {f'top-{k}': float(res[f'accuracy_top-{k}']) for k in topk}


@torch.no_grad()
def recalibrate_bn(model: nn.Module, loader, num_batches: int) -> None:
    """Re-estimate BatchNorm running statistics of the (pruned) model on
    ``num_batches`` training batches: the stored ones describe the
    unpruned network's features. Averaged over ranks when distributed."""
    bns = [m for m in model.modules()
           if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not bns or num_batches <= 0:
        return
    momenta = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the batches
    was_training = model.training
    model.train()
    device = next(model.parameters()).device
    forward = getattr(model, 'forward_dummy', model)
    for i, batch in enumerate(loader):
        if i >= num_batches:
            break
        forward(split_batch(batch)[0].to(device))
    model.train(was_training)
    for bn, momentum in zip(bns, momenta):
        bn.momentum = momentum
        if is_distributed():
            for stat in (bn.running_mean, bn.running_var):
                dist.all_reduce(stat)
                stat /= dist.get_world_size()


@torch.no_grad()
def cpu_latency(models: Dict[str, nn.Module], input_shape: Sequence[int],
                batch_sizes=(1, ), min_time: float = 0.5,
                min_repeats: int = 5) -> Dict[str, Dict[str, float]]:
    """Median forward time in ms of each model on CPU, per batch size.

    Models run interleaved (one call each per round) so that a busy
    machine slows them alike; ``forward_dummy`` (features + classifier,
    no softmax / post-processing) is timed when the model has it.

    Returns:
        ``{'batch_1': {name: ms, ...}, ...}``.
    """
    models = {k: copy.deepcopy(m).cpu().eval() for k, m in models.items()}
    out = {}
    for bs in batch_sizes:
        x = torch.randn(bs, *input_shape)
        fns = {k: getattr(m, 'forward_dummy', m) for k, m in models.items()}
        times = {k: [] for k in fns}
        for fn in fns.values():  # warm-up
            fn(x)
        start = time.perf_counter()
        while (len(times[next(iter(times))]) < min_repeats
               or time.perf_counter() - start < min_time * len(fns)):
            for k, fn in fns.items():
                t0 = time.perf_counter()
                fn(x)
                times[k].append(time.perf_counter() - t0)
        out[f'batch_{bs}'] = {k: 1000 * float(torch.tensor(v).median())
                              for k, v in times.items()}
    return out


def rank() -> int:
    return get_dist_info()[0]
