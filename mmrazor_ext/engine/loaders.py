"""Data loaders for an algorithm's own measurements (scoring, BN
recalibration, evaluation outside the runner's loop)."""
from ..adapters import build_loader as _build_loader
from ..utils import is_distributed


def build_loader(data_cfg, split: str, seed: int = 0):
    """A loader over ``data_cfg[split]`` ('train': shuffled; 'val' /
    'test': in order, test mode), split across ranks when distributed."""
    return _build_loader(data_cfg, split, seed, is_distributed())
