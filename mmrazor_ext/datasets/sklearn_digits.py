import mmcv
import numpy as np
from mmcls.datasets import DATASETS, BaseDataset


@DATASETS.register_module()
class SklearnDigits(BaseDataset):
    """scikit-learn's 8x8 handwritten digits as 32x32 RGB images.

    The embedded default data set: 1,797 real images in 10 classes that ship
    inside scikit-learn, so nothing is downloaded. Each 8x8 image (values
    0-16) is scaled to 0-255, resized to ``img_size`` with bilinear
    interpolation and repeated over three channels, so mmcls pipelines and
    CIFAR-style models use it unchanged. A stratified, seeded split gives
    the train and val subsets.

    Args:
        pipeline (list[dict]): mmcls pipeline.
        split (str): ``'train'``, ``'val'`` or ``'all'``.
        val_fraction (float): Share of images held out for ``'val'``.
        split_seed (int): Seed of the split; keep it fixed so train and val
            never overlap.
        img_size (int): Side of the square output images.
        data_prefix (str): Unused (no files), kept for mmcls's interface.
        **kwargs: Passed on to :class:`mmcls.datasets.BaseDataset`.

    Examples:
        >>> ds = SklearnDigits(pipeline=[], split='val')
        >>> len(ds), ds[0]['img'].shape
        (360, (32, 32, 3))
    """

    CLASSES = [str(i) for i in range(10)]

    def __init__(self, pipeline, split='train', val_fraction=0.2,
                 split_seed=0, img_size=32, data_prefix='', **kwargs):
        if split not in ('train', 'val', 'all'):
            raise ValueError(f"SklearnDigits split must be 'train', 'val' "
                             f"or 'all', got {split!r}")
        if not 0 < val_fraction < 1:
            raise ValueError(f'SklearnDigits val_fraction must be in (0, 1),'
                             f' got {val_fraction}')
        self.split = split
        self.val_fraction = val_fraction
        self.split_seed = split_seed
        self.img_size = img_size
        super().__init__(data_prefix, pipeline, **kwargs)

    def load_annotations(self):
        # scikit-learn when the data is read, not with the package
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        digits = load_digits()
        images = (digits.images * (255.0 / 16.0)).astype(np.uint8)
        labels = digits.target.astype(np.int64)
        index = np.arange(len(labels))
        if self.split != 'all':
            train_idx, val_idx = train_test_split(
                index, test_size=self.val_fraction,
                random_state=self.split_seed, stratify=labels)
            index = np.sort(train_idx if self.split == 'train' else val_idx)
        data_infos = []
        for i in index:
            img = mmcv.imresize(images[i], (self.img_size, self.img_size),
                                interpolation='bilinear')
            img = np.repeat(img[:, :, None], 3, axis=2)
            data_infos.append(
                {'img': img, 'gt_label': np.array(labels[i], dtype=np.int64)})
        return data_infos
