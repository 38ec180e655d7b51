"""OneShot in two gloo processes through tools/dist_train.sh: statistics
all-reduced, one subnet, one report, ranks identical from the first
weights to the last, DDP rebuilt around the physically pruned model."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from one_shot_setup import ROOT, write_cfg


def test_two_processes(tmp_path, pretrained, free_port, monkeypatch):
    # tests/tools/rank_state_hook.py: every rank saves its final state
    cfg = write_cfg(tmp_path, pretrained, top=dict(
        custom_imports=dict(imports=['mmrazor_ext', 'rank_state_hook'],
                            allow_failed_imports=False),
        custom_hooks=[dict(type='OneShotHook', latency_time=0.05),
                      dict(type='RankStateHook')]))
    work = tmp_path / 'work'
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               PYTHONPATH=os.pathsep.join(
                   [osp.join(ROOT, 'tests', 'tools'), ROOT,
                    os.environ.get('PYTHONPATH', '')]))
    # through the user's script: torchrun, one gloo process per rank
    env.update(PYTHON=sys.executable, MASTER_PORT=str(free_port))
    out = subprocess.run(
        ['bash', 'tools/dist_train.sh', '2', cfg, '--work-dir', str(work),
         '--seed', '0'], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.load(open(work / 'oneshot_report.json'))
    assert 0.45 < report['flops']['ratio'] < 0.55
    assert set(report['accuracy']['after_finetune']) == {'top-1', 'top-5'}
    # rank 0 prints the build-time progress once
    assert (out.stdout + out.stderr).count('OneShot: step 1/1: scoring') == 1
    state = torch.load(work / 'epoch_1.pth', weights_only=True)
    keep = state['state_dict']['pruned_keep']
    subnet = json.load(open(work / 'subnet.json'))['subnet']
    assert int(keep.sum()) == sum(len(v) for v in subnet.values())
    start = [torch.load(work / f'rank{r}_initial.pth')['state']
             for r in (0, 1)]
    for name, value in start[0].items():  # the same weights to start with
        assert torch.equal(value, start[1][name]), name
    ranks = [torch.load(work / f'rank{r}_final.pth')['state'] for r in (0, 1)]
    assert [torch.load(work / f'rank{r}_final.pth')['world']
            for r in (0, 1)] == [2, 2]
    assert torch.equal(ranks[0]['pruned_keep'], ranks[1]['pruned_keep'])
    assert torch.equal(ranks[0]['pruned_keep'], keep)
    # both ranks trained the physically pruned model after the switch
    assert bool(ranks[0]['pruned_exported']) and \
        bool(ranks[1]['pruned_exported'])
    exported = torch.load(work / 'pruned_model.pth', weights_only=True)
    for key, value in exported['state_dict'].items():
        for r in ranks:
            assert r['architecture.model.' + key].shape == value.shape
    for name, value in ranks[0].items():  # DDP: identical weights
        if value.is_floating_point() and 'running' not in name:
            assert torch.allclose(value, ranks[1][name]), name
    assert 'train.py: cpu, 2 processes (gloo); work_dir' in open(
        [str(work / f) for f in os.listdir(work) if f.endswith('.log')][0]
    ).read()
    # what a person reads: the launch said, one process logging, none of
    # the known-harmless warnings (torch's CUDA_HOME, mmcv's deformable
    # attention, DDP's broadcast_buffers) and no environment dump
    printed = out.stdout + out.stderr
    assert out.stdout.startswith('train.py: no GPU visible: 2 processes on '
                                 'CPU (gloo)\n')
    for noise in ('CUDA_HOME', 'MultiScaleDeformableAttention',
                  'broadcast_buffers', 'Environment info', 'Warning'):
        assert noise not in printed, noise
    assert printed.count('train.py: cpu, 2 processes (gloo)') == 1
    # the 2-process evaluation (all_gather_object over gloo) gives the
    # numbers of tools/test.py in one process on the same checkpoint
    log = [json.loads(line) for line in open(
        [str(work / f) for f in os.listdir(work) if f.endswith('.log.json')
         ][0]) if '"mode": "val"' in line]
    monkeypatch.syspath_prepend(osp.join(ROOT, 'tests', 'tools'))  # hooks
    spec = importlib.util.spec_from_file_location(
        'test_tool', os.path.join(ROOT, 'tools', 'test.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main([cfg, str(work / 'epoch_1.pth'), '--out',
               str(tmp_path / 'one.json')])
    one = json.load(open(tmp_path / 'one.json'))['metrics']
    assert one['accuracy_top-1'] == pytest.approx(log[0]['accuracy_top-1'])
    assert one['accuracy_top-5'] == pytest.approx(log[0]['accuracy_top-5'])
