"""ImageNetFolder: any number of class folders, unreadable images named
(stop) or skipped and counted."""
import importlib.util
import os.path as osp

import pytest
from mmcls.datasets import build_dataloader, build_dataset

import mmrazor_ext  # noqa: F401
from mmrazor_ext.apis.cli import user_error_line
from mmrazor_ext.utils import UserInputError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LOAD = [dict(type='LoadImageFromFile'),
        dict(type='Collect', keys=['img', 'gt_label'])]


def tiny_folder(root, classes=3):
    """``tools/make_tiny_imagenet.py``'s folder: 4 train and 2 val images
    per class, 16x16."""
    spec = importlib.util.spec_from_file_location(
        'make_tiny_imagenet', osp.join(ROOT, 'tools',
                                       'make_tiny_imagenet.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main([str(root), '--classes', str(classes), '--train-per-class',
               '4', '--val-per-class', '2', '--size', '16'])
    return root


def folder_dataset(prefix, **kwargs):
    return build_dataset(dict(type='ImageNetFolder', data_prefix=str(prefix),
                              pipeline=LOAD, **kwargs))


def test_classes_from_the_folder_names(tmp_path):
    root = tiny_folder(tmp_path / 'imagenet')
    train = folder_dataset(root / 'train')
    assert train.CLASSES == ['n00000000', 'n00000001', 'n00000002']
    assert len(train) == 12
    assert sorted(set(train.get_gt_labels().tolist())) == [0, 1, 2]
    assert train[0]['img'].shape == (16, 16, 3)


def corrupt_one(root):
    path = root / 'train' / 'n00000001' / 'broken.JPEG'
    path.write_bytes(b'\xff\xd8 not a JPEG')
    return path


def test_unreadable_image_stops_with_its_name(tmp_path):
    root = tiny_folder(tmp_path / 'imagenet')
    broken = corrupt_one(root)
    train = folder_dataset(root / 'train')
    index = [train.image_path(i) for i in range(len(train))].index(
        str(broken))
    with pytest.raises(UserInputError) as error:
        train[index]
    assert str(error.value) == (
        f'image {broken} cannot be read (ImageNetFolder {root}/train); set '
        "on_unreadable='skip' in the data set config to skip such images")
    # through a loader's worker process, the tools print its line
    loader = build_dataloader(train, samples_per_gpu=len(train),
                              workers_per_gpu=1, dist=False, shuffle=False,
                              persistent_workers=False)
    with pytest.raises(UserInputError) as error:
        next(iter(loader))
    assert user_error_line('train.py', error.value) == \
        f'train.py: error: image {broken} cannot be read (ImageNetFolder ' \
        f"{root}/train); set on_unreadable='skip' in the data set config " \
        'to skip such images'


def test_unreadable_image_skipped_and_counted(tmp_path):
    root = tiny_folder(tmp_path / 'imagenet')
    broken = corrupt_one(root)
    train = folder_dataset(root / 'train', on_unreadable='skip')
    served = [train[i]['img'].shape for i in range(len(train))]
    assert len(served) == 13 and train.skipped == 1
    assert str(broken) in [train.image_path(i) for i in range(len(train))]


def test_bad_switch(tmp_path):
    root = tiny_folder(tmp_path / 'imagenet', classes=1)
    with pytest.raises(UserInputError, match="on_unreadable='ignore' is not"):
        folder_dataset(root / 'train', on_unreadable='ignore')
