"""BatchNorm statistics of a pruned model: re-estimate them on a few
training batches, and snapshot / restore them around a trial (a search
candidate) so the model is left as it was."""
import contextlib
from typing import Dict

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..adapters import split_batch, trace_forward
from ..utils import is_distributed

_STATS = ('running_mean', 'running_var', 'num_batches_tracked')


def _bns(model: nn.Module):
    return [(n, m) for n, m in model.named_modules()
            if isinstance(m, _BatchNorm) and m.track_running_stats]


def bn_snapshot(model: nn.Module) -> Dict[str, Tensor]:
    """Copies of every BatchNorm's running statistics."""
    return {f'{n}.{k}': getattr(m, k).clone() for n, m in _bns(model)
            for k in _STATS if getattr(m, k, None) is not None}


@torch.no_grad()
def bn_restore(model: nn.Module, snapshot: Dict[str, Tensor]) -> None:
    """Write back statistics taken by :func:`bn_snapshot`."""
    for n, m in _bns(model):
        for k in _STATS:
            if f'{n}.{k}' in snapshot:
                getattr(m, k).copy_(snapshot[f'{n}.{k}'])


@contextlib.contextmanager
def preserved_bn_stats(model: nn.Module):
    """Inside the block BN statistics may change; after it they are as
    before (even on an exception)."""
    snap = bn_snapshot(model)
    try:
        yield
    finally:
        bn_restore(model, snap)


@torch.no_grad()
def recalibrate_bn(model: nn.Module, loader, num_batches: int,
                   sync: bool = True) -> None:
    """Re-estimate BatchNorm running statistics on ``num_batches``
    training batches (a cumulative average): after pruning, the stored
    ones describe the unpruned network's features. Averaged over ranks
    when distributed and ``sync`` (a collective then; a search's ranks
    each recalibrate their own candidates: ``sync=False``)."""
    bns = [m for _, m in _bns(model)]
    if not bns or num_batches <= 0:
        return
    momenta = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the batches
    was_training = model.training
    model.train()
    device = next(model.parameters()).device
    try:
        for i, batch in enumerate(loader):
            if i >= num_batches:
                break
            trace_forward(model, split_batch(batch)[0].to(device))
    finally:
        model.train(was_training)
        for bn, momentum in zip(bns, momenta):
            bn.momentum = momentum
    if sync and is_distributed():
        for bn in bns:
            for stat in (bn.running_mean, bn.running_var):
                dist.all_reduce(stat)
                stat /= dist.get_world_size()
