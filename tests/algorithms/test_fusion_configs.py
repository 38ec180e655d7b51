"""configs/fusion: every config parses; the digits ones build their
Fusion algorithm (pretrained left out) with the blocks / chains their
comments promise."""
import glob
import os.path as osp

import pytest
from one_shot_setup import ROOT

from mmrazor_ext.apis import build_model, load_config

CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/fusion/*.py')))
BUILT = {  # config -> (residual blocks, mergeable chains, blocks kept)
    'fusion-blocks_cifar-resnet20_1xb64_digits.py': (9, 0, 6),
    'fusion-merge_mobilenet-v2_1xb64_digits.py': (10, 16, None),
}


def test_every_config_parses():
    assert len(CONFIGS) >= 12
    for path in CONFIGS:
        cfg = load_config(path)
        if osp.basename(path).startswith('fusion'):
            assert cfg.algorithm.type == 'Fusion', path
            assert cfg.custom_hooks[0].type == 'FusionHook', path
        else:  # the classifiers Fusion starts from
            assert 'algorithm' not in cfg and cfg.model.head.num_classes == 10


@pytest.mark.parametrize('name', list(BUILT))
def test_digits_configs_build(name):
    cfg = load_config(osp.join(ROOT, 'configs/fusion', name))
    cfg.algorithm.pretrained = None
    algo = build_model(cfg)
    blocks, chains, kept = BUILT[name]
    assert len(algo.blocks) == blocks and len(algo.chains) == chains
    if kept is not None:
        assert algo.target == dict(blocks=kept)
