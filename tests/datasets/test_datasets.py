import os.path as osp
import pickle

import mmcv
import numpy as np
import pytest
from mmcls.datasets import build_dataloader, build_dataset
from mmcv import Config

import mmrazor_ext  # noqa: F401

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs', '_base_',
                   'datasets')


def data_cfg(name, **prefixes):
    cfg = Config.fromfile(osp.join(CONFIGS, name)).data
    for split, prefix in prefixes.items():
        cfg[split].data_prefix = prefix
    return cfg


def first_batch(ds, batch=4):
    loader = build_dataloader(ds, samples_per_gpu=batch, workers_per_gpu=0,
                              dist=False, shuffle=False,
                              persistent_workers=False)
    return next(iter(loader))


def test_digits_split_is_fixed_and_disjoint():
    cfg = data_cfg('digits_bs64.py')
    train, val = build_dataset(cfg.train), build_dataset(cfg.val)
    assert (len(train), len(val)) == (1437, 360)
    # stratified: every class in both
    assert set(train.get_gt_labels()) == set(val.get_gt_labels()) == \
        set(range(10))
    again = build_dataset(cfg.val)
    assert all((a['img'] == b['img']).all()
               for a, b in zip(val.data_infos, again.data_infos))
    train_imgs = {a['img'].tobytes() for a in train.data_infos}
    shared = sum(b['img'].tobytes() in train_imgs for b in val.data_infos)
    assert shared <= 2  # the raw data set holds a few exact duplicates
    batch = first_batch(train)
    assert batch['img'].shape == (4, 3, 32, 32)
    assert batch['gt_label'].dtype.is_floating_point is False


def write_cifar10(root, n_train=10, n_test=6):
    rng = np.random.default_rng(0)
    folder = osp.join(root, 'cifar-10-batches-py')
    mmcv.mkdir_or_exist(folder)
    names = [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']
    for name in names:
        n = n_test if name == 'test_batch' else n_train
        entry = {'data': rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 'labels': rng.integers(0, 10, n).tolist()}
        with open(osp.join(folder, name), 'wb') as f:
            pickle.dump(entry, f)
    with open(osp.join(folder, 'batches.meta'), 'wb') as f:
        pickle.dump({'label_names': [f'c{i}' for i in range(10)]}, f)
    return entry  # the test batch


def test_cifar10_python_batches(tmp_path):
    test_entry = write_cifar10(str(tmp_path))
    cfg = data_cfg('cifar10_bs128.py', train=str(tmp_path),
                   test=str(tmp_path))
    train, test = build_dataset(cfg.train), build_dataset(cfg.test)
    assert (len(train), len(test)) == (50, 6)
    assert train.CLASSES[3] == 'c3'
    assert test.get_gt_labels().tolist() == test_entry['labels']
    # pickle rows are CHW planes; mmcls turns them into HWC images
    img = test_entry['data'][0].reshape(3, 32, 32).transpose(1, 2, 0)
    assert (test.data_infos[0]['img'] == img).all()
    assert first_batch(train)['img'].shape == (4, 3, 32, 32)


def test_cifar10_missing_file_is_named(tmp_path):
    write_cifar10(str(tmp_path))
    missing = tmp_path / 'cifar-10-batches-py' / 'data_batch_3'
    missing.unlink()
    cfg = data_cfg('cifar10_bs128.py', train=str(tmp_path))
    with pytest.raises(FileNotFoundError, match=str(missing)):
        build_dataset(cfg.train)


def test_imagenet_folder_layout(tmp_path):
    rng = np.random.default_rng(0)
    classes = ['n01440764', 'n01443537', 'n01484850']
    for split, per_class in (('train', 3), ('val', 2)):
        for c in classes:
            for i in range(per_class):
                img = rng.integers(0, 256, (40 + 8 * i, 50, 3), np.uint8)
                mmcv.imwrite(img, str(tmp_path / split / c / f'{i}.JPEG'))
    cfg = data_cfg('imagenet_bs64.py', train=str(tmp_path / 'train'),
                   val=str(tmp_path / 'val'))
    for split in ('train', 'val'):  # a 3-class subset of the 1,000
        cfg[split].classes = classes
    train, val = build_dataset(cfg.train), build_dataset(cfg.val)
    assert (len(train), len(val)) == (9, 6)
    assert val.get_gt_labels().tolist() == [0, 0, 1, 1, 2, 2]
    assert first_batch(train)['img'].shape == (4, 3, 224, 224)
    assert first_batch(val, 6)['img'].shape == (6, 3, 224, 224)
