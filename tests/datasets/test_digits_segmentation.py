"""DigitsSegmentation: the embedded segmentation data (scikit-learn's
digits as 64x64 maps), its fixed split and mmseg's evaluation of it."""
import numpy as np
import pytest

import mmrazor_ext  # noqa: F401

pytest.importorskip('mmseg.datasets')
from mmseg.datasets import build_dataset  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from mmrazor_ext.datasets import DigitsSegmentation  # noqa: E402
from mmrazor_ext.datasets.digits_segmentation import digit_maps  # noqa: E402


@pytest.fixture(scope='module')
def splits():
    return {s: DigitsSegmentation(pipeline=[], split=s)
            for s in ('train', 'val')}


def test_split_sizes_disjoint_and_fixed(splits):
    train, val = splits['train'], splits['val']
    assert (len(train), len(val)) == (1437, 360)
    ids = [{i['index'] for i in ds.img_infos} for ds in (train, val)]
    assert not ids[0] & ids[1] and len(ids[0] | ids[1]) == 1797
    again = DigitsSegmentation(pipeline=[], split='val')
    assert np.array_equal(again.maps, val.maps)
    other = DigitsSegmentation(pipeline=[], split='val', split_seed=1)
    assert not np.array_equal(other.maps, val.maps)


def test_maps_label_strokes_by_digit(splits):
    val = splits['val']
    digits = load_digits()
    assert val.images.shape == (360, 64, 64, 3) and val.maps.shape == (
        360, 64, 64)
    assert len(val.CLASSES) == 11 and val.CLASSES[0] == 'background'
    for k in (0, 7, 359):
        index = val.img_infos[k]['index']
        found = set(np.unique(val.maps[k]).tolist())
        assert found == {0, int(digits.target[index]) + 1}
        ink = val.images[k][..., 0] >= 0.5 * 255
        assert np.array_equal(ink, val.maps[k] > 0)
    img, seg = digit_maps(np.full((1, 8, 8), 16.0), np.array([3]), 16, 0.5)
    assert (seg == 4).all() and img.shape == (1, 16, 16, 3)


def test_pipelines_and_evaluation(splits):
    norm = dict(type='Normalize', mean=[40.0] * 3, std=[80.0] * 3,
                to_rgb=False)
    train = build_dataset(dict(
        type='DigitsSegmentation', split='val', pipeline=[
            norm, dict(type='DefaultFormatBundle'),
            dict(type='Collect', keys=['img', 'gt_semantic_seg'])]))
    item = train[0]
    assert tuple(item['img'].data.shape) == (3, 64, 64)
    assert tuple(item['gt_semantic_seg'].data.shape) == (1, 64, 64)
    test = build_dataset(dict(
        type='DigitsSegmentation', split='val', test_mode=True, pipeline=[
            dict(type='MultiScaleFlipAug', img_scale=(64, 64), flip=False,
                 transforms=[dict(type='Resize', keep_ratio=True), norm,
                             dict(type='ImageToTensor', keys=['img']),
                             dict(type='Collect', keys=['img'])])]))
    assert tuple(test[0]['img'][0].shape) == (3, 64, 64)
    val = splits['val']
    perfect = val.evaluate(list(val.maps), metric='mIoU', logger='silent')
    assert perfect['mIoU'] == pytest.approx(1.0)
    blank = val.evaluate([np.zeros_like(m) for m in val.maps],
                         metric='mIoU', logger='silent')
    # mmseg rounds its summary to 4 decimals
    assert blank['aAcc'] == pytest.approx((val.maps == 0).mean(), abs=1e-4)


def test_bad_arguments():
    with pytest.raises(ValueError, match='split'):
        DigitsSegmentation(pipeline=[], split='test')
    with pytest.raises(ValueError, match='threshold'):
        DigitsSegmentation(pipeline=[], threshold=1.5)
