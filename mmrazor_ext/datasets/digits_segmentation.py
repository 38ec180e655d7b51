"""scikit-learn's handwritten digits as a semantic segmentation task."""
import mmcv
import numpy as np
from mmseg.datasets import DATASETS, CustomDataset


def digit_maps(images: np.ndarray, labels: np.ndarray, img_size: int,
               threshold: float):
    """``(images [N, S, S, 3] uint8, maps [N, S, S] uint8)``: each 8x8
    digit (values 0-16) scaled to 0-255 and resized bilinearly to ``S``;
    a pixel at or above ``threshold`` (0-1 of full ink) is stroke and gets
    its digit's class + 1, the rest background (0)."""
    imgs, maps = [], []
    for img, label in zip(images, labels):
        big = mmcv.imresize((img * (255.0 / 16.0)).astype(np.float32),
                            (img_size, img_size), interpolation='bilinear')
        big = np.clip(big, 0, 255).astype(np.uint8)
        seg = np.where(big >= threshold * 255, label + 1, 0)
        imgs.append(np.repeat(big[:, :, None], 3, axis=2))
        maps.append(seg.astype(np.uint8))
    return np.stack(imgs), np.stack(maps)


@DATASETS.register_module()
class DigitsSegmentation(CustomDataset):
    """The embedded segmentation default: 1,797 real digits that ship
    inside scikit-learn, nothing to download.

    Each image is upsampled to ``img_size`` (64) and served as RGB; its map
    labels stroke pixels with their digit's class (``'0'``..``'9'``, ids
    1-10) and the rest ``'background'`` (0). A stratified, seeded split
    (``split_seed``) gives 1,437 train / 360 val images. Samples are held
    in memory: pipelines start after loading (no ``LoadImageFromFile`` /
    ``LoadAnnotations``).

    Args:
        pipeline (list[dict]): mmseg pipeline (from normalisation on).
        split (str): ``'train'``, ``'val'`` or ``'all'``.
        val_fraction (float): Share of images held out for ``'val'``.
        split_seed (int): Seed of the split; keep it fixed.
        img_size (int): Side of the square images and maps.
        threshold (float): Ink fraction from which a pixel is stroke.
        **kwargs: Passed on to mmseg's ``CustomDataset``.

    Examples:
        >>> ds = DigitsSegmentation(pipeline=[], split='val')
        >>> len(ds), ds.maps.shape, len(ds.CLASSES)
        (360, (360, 64, 64), 11)
    """

    CLASSES = ('background', ) + tuple(str(i) for i in range(10))
    PALETTE = [[0, 0, 0]] + [[(37 * i) % 256, (91 * i) % 256,
                              (53 * i + 90) % 256] for i in range(1, 11)]

    def __init__(self, pipeline, split='train', val_fraction=0.2,
                 split_seed=0, img_size=64, threshold=0.5, **kwargs):
        if split not in ('train', 'val', 'all'):
            raise ValueError(f"DigitsSegmentation split must be 'train', "
                             f"'val' or 'all', got {split!r}")
        if not 0 < val_fraction < 1:
            raise ValueError(f'DigitsSegmentation val_fraction must be in '
                             f'(0, 1), got {val_fraction}')
        if not 0 < threshold < 1:
            raise ValueError(f'DigitsSegmentation threshold must be in '
                             f'(0, 1), got {threshold}')
        self.digits_split = split
        self.val_fraction, self.split_seed = val_fraction, split_seed
        self.img_size, self.threshold = int(img_size), threshold
        kwargs.pop('img_dir', None)
        super().__init__(pipeline, img_dir='', **kwargs)

    def load_annotations(self, *args):
        # scikit-learn when the data is read, not with the package
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        digits = load_digits()
        labels = digits.target.astype(np.int64)
        index = np.arange(len(labels))
        if self.digits_split != 'all':
            train_idx, val_idx = train_test_split(
                index, test_size=self.val_fraction,
                random_state=self.split_seed, stratify=labels)
            index = np.sort(train_idx if self.digits_split == 'train'
                            else val_idx)
        self.images, self.maps = digit_maps(
            digits.images[index], labels[index], self.img_size,
            self.threshold)
        return [dict(filename=f'digit_{i}.png', index=int(i),
                     ann=dict(seg_map=f'digit_{i}.png')) for i in index]

    def _results(self, idx, with_map):
        info = self.img_infos[idx]
        img = self.images[idx]
        # what LoadImageFromFile + Resize would have set (Collect's keys)
        results = dict(img_info=info, filename=info['filename'],
                       ori_filename=info['filename'], img=img.copy(),
                       img_shape=img.shape, ori_shape=img.shape,
                       pad_shape=img.shape, flip=False,
                       flip_direction='horizontal',
                       scale_factor=np.ones(4, dtype=np.float32))
        self.pre_pipeline(results)
        if with_map:
            results['gt_semantic_seg'] = self.maps[idx].copy()
            results['seg_fields'].append('gt_semantic_seg')
        return results

    def prepare_train_img(self, idx):
        return self.pipeline(self._results(idx, with_map=True))

    def prepare_test_img(self, idx):
        return self.pipeline(self._results(idx, with_map=False))

    def get_gt_seg_map_by_idx(self, index):
        return self.maps[index]

    def get_gt_seg_maps(self, efficient_test=None):
        yield from self.maps
