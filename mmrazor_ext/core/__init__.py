from .any_device_ddp import AnyDeviceDistributedDataParallel
from .safe_epoch_runner import SafeEpochBasedRunner

__all__ = ['AnyDeviceDistributedDataParallel', 'SafeEpochBasedRunner']
