import os.path as osp
import pickle

from mmcls.datasets import CIFAR10, CIFAR100, DATASETS


class _OfflineMixin:
    """Read CIFAR python batches from ``data_prefix`` and never download.

    mmcls's CIFAR datasets check md5 sums and download on a mismatch; on a
    machine without internet a missing file should instead fail at once,
    naming the file, and any file with the right layout should load (tests
    write small batches in the real format).
    """

    def _check_integrity(self):
        for file_name, _ in self.train_list + self.test_list:
            path = osp.join(self.data_prefix, self.base_folder, file_name)
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'{type(self).__name__}: batch file {path} not found '
                    f'(data_prefix={self.data_prefix!r} must hold '
                    f'{self.base_folder}/)')
        return True

    def _load_meta(self):
        path = osp.join(self.data_prefix, self.base_folder,
                        self.meta['filename'])
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{type(self).__name__}: meta file {path} not found')
        with open(path, 'rb') as f:
            self.CLASSES = pickle.load(f, encoding='latin1')[self.meta['key']]


@DATASETS.register_module()
class OfflineCIFAR10(_OfflineMixin, CIFAR10):
    """mmcls's ``CIFAR10`` without download or md5 checks."""


@DATASETS.register_module()
class OfflineCIFAR100(_OfflineMixin, CIFAR100):
    """mmcls's ``CIFAR100`` without download or md5 checks."""
