import os

import torch
import torch.distributed as dist
from mmcv.runner import get_dist_info


def auto_device() -> str:
    """``'cuda'`` when a GPU is visible, else ``'cpu'``."""
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def init_dist_any_device(launcher: str, backend: str = None) -> str:
    """Start torch.distributed on GPUs (NCCL) or on CPU (gloo).

    mmcv's ``init_dist`` divides by the GPU count and so fails on CPU; here
    the backend follows the device unless the config names one.

    Args:
        launcher: Only ``'pytorch'`` (torchrun, ``tools/dist_train.sh``).
        backend: ``dist_params.backend`` from the config, or None for
            ``nccl`` on GPUs and ``gloo`` on CPU.

    Returns:
        The device this process trains on.
    """
    if launcher != 'pytorch':
        raise ValueError(f'--launcher {launcher!r} is not supported; use '
                         f"'none' or 'pytorch' (torchrun)")
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR'):
        if key not in os.environ:
            raise RuntimeError(f'--launcher pytorch needs ${key}; start '
                               f'through tools/dist_train.sh or torchrun')
    device = auto_device()
    if device == 'cuda':
        torch.cuda.set_device(int(os.environ['LOCAL_RANK']) %
                              torch.cuda.device_count())
    if backend is None or (device == 'cpu' and backend == 'nccl'):
        backend = 'nccl' if device == 'cuda' else 'gloo'
    dist.init_process_group(backend=backend)
    return device


def setup_device(cfg, launcher: str) -> bool:
    """Set ``cfg.device`` and ``cfg.gpu_ids``; start torch.distributed.

    Args:
        cfg (mmcv.Config): Run config; ``dist_params.backend`` is read.
        launcher: ``'none'`` (one process) or ``'pytorch'`` (torchrun).

    Returns:
        Whether the run is distributed.
    """
    if launcher == 'none':
        cfg.device, distributed = auto_device(), False
    else:
        backend = cfg.get('dist_params', {}).get('backend')
        cfg.device, distributed = init_dist_any_device(launcher,
                                                       backend), True
    cfg.gpu_ids = range(get_dist_info()[1])
    return distributed
