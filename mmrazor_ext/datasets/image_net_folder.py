import os.path as osp

import mmcv
from mmcls.datasets import DATASETS, ImageNet
from mmcls.datasets.custom import find_folders
from mmcv.utils import print_log

from ..utils import UserInputError

ON_UNREADABLE = ('stop', 'skip')
_STATED = set()  # folders whose classes were said to be the folder names


@DATASETS.register_module()
class ImageNetFolder(ImageNet):
    """ImageNet in folder layout (``data_prefix/<class>/<image>``) with
    any number of classes, and unreadable images named.

    mmcls's ``ImageNet`` asserts exactly 1000 class folders, and an image
    that cannot be decoded fails later, inside a transform, with
    ``'NoneType' object has no attribute 'shape'`` and no file name
    (on ImageNet, possibly hours into training).

    - 1000 class folders: ImageNet's class names, as mmcls's ``ImageNet``.
      Any other number: the classes are the folder names (sorted), said
      once per folder and process in the log; the model's head may score
      more classes than that.
    - An image that cannot be read stops the run with one line naming it
      (``on_unreadable='stop'``), or is skipped (``'skip'``): another
      image is served in its place and each skip is logged with the count
      of this process's data loader so far.

    Args:
        on_unreadable (str): ``'stop'`` or ``'skip'``.
        *args, **kwargs: :class:`mmcls.datasets.ImageNet`'s.
    """

    def __init__(self, *args, on_unreadable='stop', **kwargs):
        if on_unreadable not in ON_UNREADABLE:
            raise UserInputError(f'ImageNetFolder on_unreadable='
                                 f'{on_unreadable!r} is not one of '
                                 f'{ON_UNREADABLE}')
        self.on_unreadable = on_unreadable
        self.skipped = 0
        super().__init__(*args, **kwargs)

    def _find_samples(self):
        client = mmcv.FileClient.infer_client(self.file_client_args,
                                              self.data_prefix)
        folders, _ = find_folders(self.data_prefix, client)
        if self.CLASSES is ImageNet.CLASSES and \
                len(folders) != len(ImageNet.CLASSES):
            if self.data_prefix not in _STATED:  # once, not per build
                _STATED.add(self.data_prefix)
                print_log(f'ImageNetFolder {self.data_prefix}: '
                          f'{len(folders)} class folders, not ImageNet\'s '
                          f'{len(ImageNet.CLASSES)}: the classes are the '
                          'folder names', logger='mmcls')
            self.CLASSES = None  # CustomDataset takes the folder names
        try:
            return super()._find_samples()
        except (AssertionError, RuntimeError) as e:  # classes; no image
            raise UserInputError(f'ImageNetFolder {self.data_prefix}: '
                                 f'{str(e).strip()}') from e

    def prepare_data(self, idx):
        for attempt in range(len(self)):
            i = (idx + attempt) % len(self)
            try:
                return super().prepare_data(i)
            except Exception:
                path = self.image_path(i)
                if self._readable(path):
                    raise  # another problem: its own traceback
            if self.on_unreadable == 'stop':
                raise UserInputError(
                    f'image {path} cannot be read (ImageNetFolder '
                    f'{self.data_prefix}); set on_unreadable=\'skip\' in '
                    'the data set config to skip such images')
            self.skipped += 1
            print_log(f'ImageNetFolder: skipped unreadable image {path} '
                      f'({self.skipped} so far in this loader process)',
                      logger='mmcls', level=30)
        raise UserInputError(f'ImageNetFolder {self.data_prefix}: no image '
                             'can be read')

    def image_path(self, idx) -> str:
        info = self.data_infos[idx]
        name = info['img_info']['filename']
        prefix = info.get('img_prefix')
        return osp.join(prefix, name) if prefix else name

    @staticmethod
    def _readable(path) -> bool:
        try:
            return mmcv.imread(path) is not None
        except Exception:
            return False
