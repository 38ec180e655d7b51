"""Test plugin, loaded through a config's ``custom_imports``: every rank
saves its weights as training starts and ends, so a test can compare
ranks, runs and the weights a seed gives."""
import os.path as osp

import torch
from mmcv.runner import HOOKS, Hook, get_dist_info


@HOOKS.register_module()
class RankStateHook(Hook):

    def _save(self, runner, when):
        model = getattr(runner.model, 'module', runner.model)
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        rank, world = get_dist_info()
        torch.save(dict(state=state, world=world, epoch=runner.epoch),
                   osp.join(runner.work_dir, f'rank{rank}_{when}.pth'))

    def before_run(self, runner):
        self._save(runner, 'initial')

    def after_run(self, runner):
        self._save(runner, 'final')
