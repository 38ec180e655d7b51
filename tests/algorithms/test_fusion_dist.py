"""Fusion in two gloo processes through tools/dist_train.sh (one
subprocess run): block scores all-reduced, one choice of blocks, DDP
rebuilt around the shallower model, ranks identical, one report."""
import json
import os
import os.path as osp
import subprocess
import sys

import torch
from one_shot_setup import ROOT
from test_fusion_train import fusion_cfg


def test_two_processes(tmp_path, pretrained, free_port):
    top = dict(custom_imports=dict(imports=['mmrazor_ext', 'rank_state_hook'],
                                   allow_failed_imports=False),
               custom_hooks=[dict(type='FusionHook', latency_time=0.02),
                             dict(type='RankStateHook')])
    # blocks, then channels
    cfg = fusion_cfg(tmp_path, pretrained, top=top,
                     channels=dict(budget=dict(flops=0.7)))
    work = tmp_path / 'work'
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               PYTHONPATH=os.pathsep.join(
                   [osp.join(ROOT, 'tests', 'tools'), ROOT,
                    os.environ.get('PYTHONPATH', '')]),
               PYTHON=sys.executable, MASTER_PORT=str(free_port))
    out = subprocess.run(
        ['bash', 'tools/dist_train.sh', '2', cfg, '--work-dir', str(work),
         '--seed', '0'], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.load(open(work / 'fusion_report.json'))
    assert report['blocks'] == dict(unpruned=9, kept=6)
    # 3 blocks, then 30% of what was left: about 0.7 * (kept FLOPs)
    assert report['flops']['ratio'] < 0.6
    assert (out.stdout + out.stderr).count('Fusion: scoring 7 residual') == 1
    ranks = [torch.load(work / f'rank{r}_final.pth') for r in (0, 1)]
    assert [r['world'] for r in ranks] == [2, 2]
    a, b = ranks[0]['state'], ranks[1]['state']
    assert torch.equal(a['fusion_removed'], b['fusion_removed'])
    assert int(a['fusion_removed'].sum()) == 3
    assert torch.equal(a['pruned_keep'], b['pruned_keep'])
    assert bool(a['pruned_exported']) and bool(b['pruned_exported'])
    for name, value in a.items():  # DDP: identical weights
        if value.is_floating_point() and 'running' not in name:
            assert torch.allclose(value, b[name]), name
    ckpt = torch.load(work / 'epoch_1.pth', weights_only=False)
    assert torch.equal(ckpt['state_dict']['fusion_removed'],
                       a['fusion_removed'])
