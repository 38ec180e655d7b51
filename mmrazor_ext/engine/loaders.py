"""Data loaders for an algorithm's own measurements (scoring, BN
recalibration, evaluation outside the runner's loop)."""
import torch
from mmcls.datasets import build_dataloader, build_dataset

from ..utils import is_distributed


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
