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


def test_old_budget_names_warn_and_mean_the_same():
    """Fusion's target and channels.flops_target (FLOPs removed) still
    work for one release, each with a warning naming the new key."""
    path = osp.join(ROOT, 'configs/fusion/'
                    'fusion-blocks-channels_cifar-resnet56_1xb64_digits.py')
    cfg = load_config(path)
    cfg.algorithm.pretrained = None
    new = build_model(cfg)
    cfg.algorithm.target = cfg.algorithm.pop('budget')
    cfg.algorithm.channels = dict(flops_target=0.3, mode='diff')
    with pytest.warns(FutureWarning) as caught:
        old = build_model(cfg)
    text = [str(w.message) for w in caught
            if 'deprecated' in str(w.message)]
    assert any("target={'flops': 0.7} is deprecated" in t and
               'use budget=dict(flops=0.7) (FLOPs kept)' in t for t in text)
    assert any('channels.flops_target=0.3 (FLOPs removed) is deprecated' in t
               and 'use channels.budget=dict(flops=0.7)' in t for t in text)
    assert old.budget == new.budget == dict(flops=0.7)
    assert old.channels == new.channels


@pytest.mark.parametrize('name', list(BUILT))
def test_digits_configs_build(name):
    cfg = load_config(osp.join(ROOT, 'configs/fusion', name))
    cfg.algorithm.pretrained = None
    algo = build_model(cfg)
    blocks, chains, kept = BUILT[name]
    assert len(algo.blocks) == blocks and len(algo.chains) == chains
    if kept is not None:
        assert algo.budget == dict(blocks=kept)
