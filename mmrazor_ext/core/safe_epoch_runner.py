import os.path as osp

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
    """

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
