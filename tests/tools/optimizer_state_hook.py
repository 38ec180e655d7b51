"""Test plugin, loaded through a config's ``custom_imports``: saves the
optimizer's state as the run starts, after any ``--resume-from``."""
import os.path as osp

import torch
from mmcv.runner import HOOKS, Hook


@HOOKS.register_module()
class OptimizerStateHook(Hook):

    def before_run(self, runner):
        torch.save(runner.optimizer.state_dict(),
                   osp.join(runner.work_dir, 'optimizer_at_start.pth'))
