import os
import os.path as osp

import mmcv
from mmcv.runner import RUNNERS, EpochBasedRunner


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
        tmp_name = f'.{filename}.{os.getpid()}.tmp'
        super().save_checkpoint(out_dir, filename_tmpl=tmp_name,
                                save_optimizer=save_optimizer, meta=meta,
                                create_symlink=False)
        os.replace(osp.join(out_dir, tmp_name), osp.join(out_dir, filename))
        if create_symlink:
            mmcv.symlink(filename, osp.join(out_dir, 'latest.pth'))
