"""The published-checkpoint configs (OpenMMLab model-zoo URLs as
``pretrained``) and the Cityscapes / ADE20K data settings: roots from
$CITYSCAPES_ROOT / $ADE20K_ROOT, read on tiny data sets written here in
each format, evaluated by mmseg; a missing root is one line."""
import glob
import os

import mmcv
import numpy as np
import pytest

import mmrazor_ext  # noqa: F401  (first: mmseg needs its mmcv.ops stand-in)
from mmrazor_ext.apis import build_dataset, check_data_paths, load_config
from mmrazor_ext.utils import UserInputError
from tool_runner import ROOT

pytest.importorskip('mmseg.datasets')
ZOO = sorted(glob.glob(f'{ROOT}/configs/zoo/*.py'))
URLS = {
    'resnet18': 'resnet18_8xb32_in1k_20210831-fbbb1da6.pth',
    'resnet50': 'resnet50_8xb32_in1k_20210831-ea4938fc.pth',
    'mobilenet-v2': 'mobilenet_v2_batch256_imagenet_20200708-3b2dc3af.pth',
    'fcn': 'fcn_r50-d8_512x1024_80k_cityscapes_20200606_113019-03aa804d',
    'pspnet': 'pspnet_r50-d8_512x1024_80k_cityscapes_20200606_112131-'
              '2376f12b',
    'deeplabv3': 'deeplabv3_r50-d8_512x1024_80k_cityscapes_20200606_'
                 '113404-b92cfdd4'}


def test_zoo_configs_start_from_model_zoo_urls():
    assert len(ZOO) == 6
    for path in ZOO:
        cfg = load_config(path)
        name = os.path.basename(path).split('_')[1]
        key = next(k for k in URLS if name.startswith(k + '-') or
                   name == k)
        url = cfg.algorithm.pretrained
        assert url.startswith('https://download.openmmlab.com/mm'), path
        assert URLS[key] in url, path
        seg = 'cityscapes' in path
        assert cfg.algorithm.architecture.type == (
            'MMSegArchitecture' if seg else 'MMClsArchitecture')
        if seg:
            assert cfg.model.backbone.norm_cfg.type == 'BN'
            assert cfg.model.auxiliary_head.in_index == 2


def _write(root, img_rel, ann_rel, classes):
    rng = np.random.default_rng(0)
    for rel in (img_rel, ann_rel):
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
    mmcv.imwrite(rng.integers(0, 255, (16, 32, 3), dtype=np.uint8),
                 os.path.join(root, img_rel))
    seg = rng.integers(0, classes, (16, 32)).astype(np.uint8)
    mmcv.imwrite(seg, os.path.join(root, ann_rel))
    return seg


@pytest.mark.parametrize('name', ['cityscapes', 'ade20k'])
def test_dataset_settings_read_tiny_data(name, tmp_path, monkeypatch):
    root = tmp_path / name
    if name == 'cityscapes':
        env, files = 'CITYSCAPES_ROOT', [
            (f'leftImg8bit/val/aachen/a_{i}_leftImg8bit.png',
             f'gtFine/val/aachen/a_{i}_gtFine_labelTrainIds.png')
            for i in range(2)]
    else:
        env, files = 'ADE20K_ROOT', [
            (f'images/validation/ADE_val_{i}.jpg',
             f'annotations/validation/ADE_val_{i}.png') for i in range(2)]
    cfg_path = f'{ROOT}/configs/_base_/datasets/{name}.py'
    monkeypatch.setenv(env, str(tmp_path / 'nowhere'))
    with pytest.raises(UserInputError, match='data path not found: data.'
                       r'train.img_dir=.* \(under data_root .*nowhere\)'):
        check_data_paths(load_config(cfg_path))
    monkeypatch.setenv(env, str(root))
    maps = [_write(str(root), img, ann, 19) for img, ann in files]
    cfg = load_config(cfg_path)
    assert cfg.data.val.data_root == str(root)
    ds = build_dataset(cfg.data.val, dict(test_mode=True))
    assert len(ds) == 2 and ds[0]['img'][0].shape[0] == 3
    gts = list(ds.get_gt_seg_maps())
    assert all(np.array_equal(g, m) for g, m in zip(gts, maps))
    # ADE20K's labels count from 1 (0 is "other", ignored): predictions
    # are 0-based
    preds = [m.astype(int) - 1 if name == 'ade20k' else m for m in maps]
    res = ds.evaluate(preds, metric='mIoU', logger='silent')
    assert res['mIoU'] == pytest.approx(1.0) and res['aAcc'] == 1.0
