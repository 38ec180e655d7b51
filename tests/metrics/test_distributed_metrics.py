"""Two gloo processes give the scores one process gives on the same data."""
import os
from datetime import timedelta

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn

METRICS = ['MeanActivationMetric', 'APoZMetric', 'HRankMetric', 'CDPMetric',
           'TaylorMetric', 'CKAMetric']
LAYERS = ['1', '4']


def _net():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(True),
        nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(True),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 4))


def _batches():
    """Four batches; rank 0 takes the even ones (classes 0-1 only), rank 1
    the odd ones (classes up to 3), so CDP's class matrices differ in size
    across ranks."""
    gen = torch.Generator().manual_seed(0)
    labels = [torch.tensor([0, 1, 0]), torch.tensor([2, 3, 1]),
              torch.tensor([1, 1, 0]), torch.tensor([3, 2, 2])]
    return [(torch.randn(3, 3, 6, 6, generator=gen), y) for y in labels]


def _scores(data):
    from mmrazor_ext.metrics import collect_scores
    out = {}
    for name in METRICS:
        layers = ['3'] if name == 'CKAMetric' else LAYERS  # conv as block
        out[name] = collect_scores(_net(), name, data, layers=layers)
    return out


def _worker(rank, world, port, out_file):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=world,
                            # a failing peer must not hang the suite
                            timeout=timedelta(seconds=60))
    try:
        scores = _scores(_batches()[rank::world])
        if rank == 0:
            torch.save(scores, out_file)
    finally:
        dist.destroy_process_group()


def test_two_processes_equal_one(tmp_path, free_port):
    out_file = os.path.join(tmp_path, 'scores.pth')
    mp.spawn(_worker, args=(2, free_port, out_file), nprocs=2)
    two = torch.load(out_file)
    one = _scores(_batches())
    for name in METRICS:
        for layer, score in one[name].items():
            torch.testing.assert_close(two[name][layer], score,
                                       msg=f'{name} {layer}')
