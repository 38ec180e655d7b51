from .any_device_ddp import (AnyDeviceDistributedDataParallel,
                             no_buffer_sync, rewrap_model)
from .safe_epoch_runner import SafeEpochBasedRunner
from .work_dir_lock import WorkDirLock

__all__ = ['AnyDeviceDistributedDataParallel', 'SafeEpochBasedRunner',
           'WorkDirLock', 'no_buffer_sync', 'rewrap_model']
