import os.path as osp
import time

import mmcv
from mmcv.runner import RUNNERS, EpochBasedRunner

from ..utils import atomic_write


@RUNNERS.register_module()
class SafeEpochBasedRunner(EpochBasedRunner):
    """``EpochBasedRunner`` whose checkpoints are written atomically.

    mmcv writes ``epoch_N.pth`` in place, so a run killed while saving
    leaves a truncated file where a good one may have been. Here the
    checkpoint goes to a hidden temporary file first and is renamed over
    the target only once complete; ``latest.pth`` then points to it.

    mmcv also pauses 2 s at the start of every training epoch against a
    deadlock of data-loader worker processes; with no worker processes
    (``workers_per_gpu=0``, as for the in-memory digits) there is nothing
    to wait for, and the pause is skipped.
    """

    def train(self, data_loader, **kwargs):
        # mmcv 1.5's EpochBasedRunner.train, the pause made conditional
        self.model.train()
        self.mode = 'train'
        self.data_loader = data_loader
        self._max_iters = self._max_epochs * len(self.data_loader)
        self.call_hook('before_train_epoch')
        if getattr(data_loader, 'num_workers', 1) > 0:
            time.sleep(2)  # mmcv: prevent possible deadlock between epochs
        for i, data_batch in enumerate(self.data_loader):
            self._inner_iter = i
            self.call_hook('before_train_iter')
            self.run_iter(data_batch, train_mode=True, **kwargs)
            self.call_hook('after_train_iter')
            self._iter += 1
        self.call_hook('after_train_epoch')
        self._epoch += 1

    def save_checkpoint(self, out_dir, filename_tmpl='epoch_{}.pth',
                        save_optimizer=True, meta=None, create_symlink=True):
        filename = filename_tmpl.format(self.epoch + 1)

        def write(tmp):
            # a name without braces: mmcv formats it with the epoch
            super(SafeEpochBasedRunner, self).save_checkpoint(
                osp.dirname(tmp), filename_tmpl=osp.basename(tmp),
                save_optimizer=save_optimizer, meta=meta,
                create_symlink=False)
        atomic_write(osp.join(out_dir, filename), write)
        if create_symlink:
            mmcv.symlink(filename, osp.join(out_dir, 'latest.pth'))
