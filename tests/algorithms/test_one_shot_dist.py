"""OneShot in two gloo processes (torchrun): statistics all-reduced,
one subnet, one report."""
import json
import os
import subprocess
import sys

import torch
from conftest import ROOT, write_cfg


def test_two_processes(tmp_path, pretrained):
    cfg = write_cfg(tmp_path, pretrained)
    work = tmp_path / 'work'
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    out = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--standalone',
         '--nproc_per_node', '2', 'tools/train.py', cfg, '--launcher',
         'pytorch', '--work-dir', str(work)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.load(open(work / 'oneshot_report.json'))
    assert 0.45 < report['flops']['ratio'] < 0.55
    assert set(report['accuracy']['after_finetune']) == {'top-1', 'top-5'}
    # rank 0 prints the build-time progress once
    assert out.stdout.count('OneShot: step 1/1: scoring') == 1
    state = torch.load(work / 'epoch_1.pth', weights_only=False)
    keep = state['state_dict']['pruned_keep']
    subnet = json.load(open(work / 'subnet.json'))['subnet']
    assert int(keep.sum()) == sum(len(v) for v in subnet.values())
    assert 'Distributed: True' in open(
        [str(work / f) for f in os.listdir(work) if f.endswith('.log')][0]
    ).read()
