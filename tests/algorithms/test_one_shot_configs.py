"""Every config in configs/one_shot/ reads, prunes what it trains and
builds (a quick build for the digits ones)."""
import glob
import os.path as osp

import pytest
from one_shot_setup import ROOT
from mmcv import Config

from mmrazor_ext.apis import build_model

CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/one_shot/*.py')))


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config(path):
    cfg = Config.fromfile(path)
    algo = cfg.algorithm
    assert algo.type == 'OneShot' and algo.pretrained.endswith('.pth')
    assert algo.architecture.model == cfg.model
    assert 'data' not in algo  # the tools pass cfg.data (build_model)
    assert any(h.type == 'OneShotHook' for h in cfg.custom_hooks)
    if 'digits' in path and 'resnet56' not in path:
        algo.pretrained, algo.evaluate, algo.num_batches = None, False, 1
        model = build_model(cfg)
        assert model.data == cfg.data
        assert int(model.steps_done) == 0  # building prunes nothing
        model.prune_step(0)
        flops = model.pruner.flops_params(model.pruner.get_subnet())[0]
        first_step = (1 - algo.budget.flops) / algo.get('num_steps', 1)
        assert abs(1 - flops / model.full_flops - first_step) < 0.02
