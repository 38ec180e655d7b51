from .any_device_ddp import AnyDeviceDistributedDataParallel, rewrap_model
from .safe_epoch_runner import SafeEpochBasedRunner

__all__ = ['AnyDeviceDistributedDataParallel', 'SafeEpochBasedRunner',
           'rewrap_model']
