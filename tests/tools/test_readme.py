"""The README as a user reads it: the "Prune your own model" recipe, as
written there, on an mmcls 0.25 config this project does not ship (mmcls's
own ``resnet18_8xb16_cifar10.py``, installed with mmcls), run with the one
command it gives, its outputs where the README says; its links and the
scripts of its command table exist."""
import json
import os.path as osp
import re

import mmcls
import torch
from mmcls.models import build_classifier
from mmcv import Config

from tool_runner import ROOT, run_main

from mmrazor_ext.apis import load_pruned

MMCLS_CONFIG = osp.join(osp.dirname(mmcls.__file__), '.mim', 'configs',
                        'resnet', 'resnet18_8xb16_cifar10.py')
# what the test changes beyond the paths: CIFAR-10 is not here, so the
# digits (at their own 8x8, a few hundred images) stand in for it; 1 short
# epoch
TEST_ONLY = """
_digits = dict(type='SklearnDigits', img_size=8, pipeline=[
    dict(type='Normalize', mean=[80.0] * 3, std=[110.0] * 3, to_rgb=False),
    dict(type='ImageToTensor', keys=['img']),
    dict(type='Collect', keys=['img'])])
data = dict(_delete_=True, samples_per_gpu=32, workers_per_gpu=0,
            train=dict(_digits, split='train', val_fraction=0.95, pipeline=[
                dict(type='Normalize', mean=[80.0] * 3, std=[110.0] * 3,
                     to_rgb=False),
                dict(type='ImageToTensor', keys=['img']),
                dict(type='ToTensor', keys=['gt_label']),
                dict(type='Collect', keys=['img', 'gt_label'])]),
            val=dict(_digits, split='val', val_fraction=0.04),
            test=dict(_digits, split='val', val_fraction=0.04))
algorithm['pruner']['input_shape'] = (3, 8, 8)
algorithm['recalibrate_bn'] = 1
custom_hooks[0].update(latency_time=0.05, latency_backends=[])  # eager only
runner['max_epochs'] = 1
"""


def readme_recipe():
    """The config and the command of the README's section."""
    text = open(osp.join(ROOT, 'README.md')).read()
    section = text.split('## Prune your own model')[1].split('\n## ')[0]
    config, command = re.findall(r'```(?:python|bash)\n(.*?)```', section,
                                 re.S)[:2]
    return config, command.split('#')[0].split()


def test_recipe_on_an_mmcls_config(tmp_path, monkeypatch):
    assert osp.isfile(MMCLS_CONFIG)
    model = build_classifier(Config.fromfile(MMCLS_CONFIG).model)
    ckpt = tmp_path / 'your_checkpoint.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    config, command = readme_recipe()
    config = config.replace('path/to/your_mmcls_config.py', MMCLS_CONFIG)
    config = config.replace('path/to/your_checkpoint.pth', str(ckpt))
    (tmp_path / 'my_prune.py').write_text(config + TEST_ONLY)
    assert command == ['python', 'tools/train.py', 'my_prune.py']
    monkeypatch.chdir(tmp_path)  # where the user runs it
    log = run_main('train', command[2:])
    work = tmp_path / 'work_dirs' / 'my_prune'
    for name in ('latest.pth', 'subnet.json', 'pruned_model.pth',
                 'deploy_model.pth', 'oneshot_report.json'):
        assert (work / name).is_file(), name
    assert 'OneShot report (val accuracy in %)' in log
    report = json.loads((work / 'oneshot_report.json').read_text())
    assert 0.48 < report['flops']['ratio'] < 0.52
    assert set(report['accuracy']['after_finetune']) == {'top-1', 'top-5'}
    pruned = load_pruned('my_prune.py', str(work / 'pruned_model.pth'))
    assert sum(p.numel() for p in pruned.parameters()) == \
        report['params']['pruned']
    # and evaluated again as the README says
    log = run_main('test', ['my_prune.py', 'work_dirs/my_prune/latest.pth'])
    assert 'accuracy_top-1: ' in log


def test_links_and_commands_exist():
    text = open(osp.join(ROOT, 'README.md')).read()
    for target in re.findall(r'\]\(([^)#]+)(?:#[^)]*)?\)', text):
        assert osp.exists(osp.join(ROOT, target)), target
    table = text.split("## The design's seven commands")[1].split('\n## ')[0]
    scripts = re.findall(r'bash (\S+\.sh)', table)
    assert len(scripts) == 7
    for script in scripts:
        assert osp.isfile(osp.join(ROOT, script)), script
