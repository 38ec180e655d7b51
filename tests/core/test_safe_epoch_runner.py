"""SafeEpochBasedRunner: atomic checkpoints, no idle pause without
data-loader workers."""
import logging
import os

import pytest
import torch
from torch import nn

import mmrazor_ext.core.safe_epoch_runner as module
from mmrazor_ext.core import SafeEpochBasedRunner


class Tiny(nn.Module):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def train_step(self, batch, optimizer):
        return dict(loss=self.fc(batch).sum(), log_vars={}, num_samples=1)


@pytest.mark.parametrize('workers', [0, 1])
def test_pause_only_with_workers(workers, tmp_path, monkeypatch):
    pauses = []
    monkeypatch.setattr(module.time, 'sleep', pauses.append)
    runner = SafeEpochBasedRunner(Tiny(), work_dir=str(tmp_path),
                                  logger=logging.getLogger('t'),
                                  max_epochs=2)
    loader = torch.utils.data.DataLoader(torch.randn(4, 2), batch_size=2,
                                         num_workers=workers)
    runner.run([loader], [('train', 1)])
    assert runner.epoch == 2 and runner.iter == 4
    # mmcv's run() itself waits 1 s for the loggers at the end
    assert [p for p in pauses if p == 2] == ([2, 2] if workers else [])
    runner.save_checkpoint(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ['epoch_3.pth', 'latest.pth']
    assert os.readlink(tmp_path / 'latest.pth') == 'epoch_3.pth'
