"""Is this a distributed run, which rank, and one value for all ranks."""
import torch.distributed as dist


def is_distributed() -> bool:
    """torch.distributed is initialised with more than one process."""
    return dist.is_available() and dist.is_initialized() and \
        dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 when not distributed)."""
    return dist.get_rank() if is_distributed() else 0


def broadcast_object(obj, src: int = 0):
    """``obj`` of rank ``src`` on every rank (itself when not
    distributed)."""
    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]
