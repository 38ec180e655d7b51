"""Fusion on the embedded digits at 16x16 through tools/train.py (in
process): blocks scored and removed to a target, chains linearised and
merged at export, BN folded for deploy; resume; blocks then channels."""
import json

import pytest
import torch
from one_shot_setup import one_shot_cfg

from mmrazor_ext.adapters import trace_forward
from mmrazor_ext.apis import load_pruned
from mmrazor_ext.fusion import trace_graph
from mmrazor_ext.pruners.flops import count_graph


def one_counter(report, exported):
    """The report's FLOPs and params are the counter's on the exported
    model, and the step line's FLOPs are the report's."""
    counted = count_graph(trace_graph(exported, (3, 16, 16)))
    assert (report['flops']['pruned'], report['params']['pruned']) == \
        counted
    assert report['steps'][0]['flops'] == report['flops']['pruned']


MBV2 = dict(type='ImageClassifier',
            backbone=dict(type='MobileNetV2', widen_factor=0.25),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10,
                      in_channels=1280, loss=dict(type='CrossEntropyLoss'),
                      topk=(1, 5)))


def fusion_cfg(folder, pretrained, name='fusion.py', top=None, model=None,
               **algorithm):
    """A train.py config (path) of a Fusion run on the digits (ResNet-20,
    or ``model``)."""
    algo = dict(type='Fusion', block_metric='CKAMetric', budget=dict(
        blocks=6), metric='L1Metric', num_batches=2, mode=None)
    algo.update(algorithm)
    top = {'custom_hooks': [dict(type='FusionHook', latency_time=0.02)],
           **(top or {})}
    text = one_shot_cfg(pretrained, top, **algo)
    text = text.replace("'mode': None, ", '')
    if model is not None:
        text += (f'model = {model!r}\n'
                 f"algorithm['architecture']['model'] = {model!r}\n")
    path = folder / name
    path.write_text(text)
    return str(path)


def test_blocks_removed_merged_and_folded(tmp_path, pretrained, train_main):
    cfg = fusion_cfg(tmp_path, pretrained)
    work = tmp_path / 'work'
    train_main([cfg, '--work-dir', str(work), '--seed', '0'])
    report = json.loads((work / 'fusion_report.json').read_text())
    assert report['algorithm'] == 'Fusion'
    assert report['blocks'] == dict(unpruned=9, kept=6)
    assert len(report['removed_blocks']) == 3
    scores = json.loads((work / 'block_scores.json').read_text())
    # the 7 candidates (stage transitions stay) in forward order
    assert list(scores['blocks']) == [
        f'backbone.layer{s}.{b}' for s in (1, 2, 3) for b in range(3)
        if (s, b) not in ((2, 0), (3, 0))]
    order = sorted(scores['blocks'], key=scores['blocks'].get)
    assert sorted(report['removed_blocks']) == sorted(order[:3])
    assert (work / 'block_scores.png').stat().st_size > 1000
    assert report['depth']['exported'] == report['depth']['unpruned'] - 6
    assert 0.5 < report['flops']['ratio'] < 0.8
    assert set(report['accuracy']['after_finetune']) == {'top-1', 'top-5'}
    fused = load_pruned(cfg, str(work / 'fused_model.pth'))
    deploy = load_pruned(cfg, str(work / 'deploy_model.pth'))
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        ref, out = trace_forward(fused.eval(), x), trace_forward(
            deploy.eval(), x)
    assert (out - ref).abs().max() <= 1e-4 * ref.abs().max()
    one_counter(report, fused)  # ResNet-20: convs and a linear head
    assert report['bn_folded'] == 21 - 6
    row = report['latency_ms']['batch_1']
    assert {'unpruned', 'exported', 'deploy'} <= set(row)
    ort = report['runtime_latency_ms']['onnxruntime']['batch_1']
    assert {'unpruned', 'exported', 'speedup'} <= set(ort)
    # resume from the checkpoint: structure rebuilt, loads strictly
    work2 = tmp_path / 'resumed'
    train_main([cfg, '--work-dir', str(work2), '--seed', '0',
                '--resume-from', str(work / 'epoch_1.pth'),
                '--cfg-options', 'runner.max_epochs=2'])
    again = json.loads((work2 / 'fusion_report.json').read_text())
    assert again['removed_blocks'] == report['removed_blocks']
    assert again['epochs'] == 2
    assert again['accuracy']['before_pruning'] == \
        report['accuracy']['before_pruning']


def test_fuse_without_finetuning(tmp_path, pretrained, train_main):
    """max_epochs=0 (the script's test_fusion_init): fused from the
    trained weights, no training, and the report says only what ran: no
    "after fine-tuning" row, and with ``merge='all'`` on a model without
    a mergeable chain a warning and no "merged" row."""
    cfg = fusion_cfg(tmp_path, pretrained, budget=dict(flops=0.8),
                     block_metric='FeatureChangeMetric', merge='all')
    work = tmp_path / 'work'
    train_main([cfg, '--work-dir', str(work), '--seed', '0',
                '--cfg-options', 'runner.max_epochs=0'])
    report = json.loads((work / 'fusion_report.json').read_text())
    acc = report['accuracy']
    assert report['epochs'] == 0 and report['flops']['ratio'] <= 0.8
    assert 'after_finetune' not in acc and 'merged' not in acc
    assert not list(work.glob('epoch_*.pth'))
    log = next(work.glob('*.log')).read_text()
    assert 'fine-tuning continues' not in log
    assert "WARNING - Fusion merge='all': the model has no chain whose " \
        'merge is not slower; nothing will be merged' in log
    table = log[log.index('Fusion report'):]
    assert 'after fine-tuning' not in table and 'merged' not in table
    # the BN-folded deploy model's latency: spread and reliability too
    row = report['latency_ms']['batch_1']
    assert len(row['iqr']['deploy']) == 2 and row['deploy_speedup'] > 0
    assert 'deploy_caveat' in row
    line = next(x for x in table.splitlines() if 'BN folded batch_1' in x)
    assert line.count('[') == 2 and '(x' in line


@pytest.mark.parametrize('algorithm, message', [
    (dict(budget=dict(blocks=12)), 'deeper than the model (9 removable'),
    (dict(budget=dict(blocks=1)), 'too shallow to keep the stage trans'),
    (dict(budget=None, blocks=['backbone.layer9.0']),
     "'backbone.layer9.0' is not a removable residual block"),
    (dict(budget=None, merge=2), 'merge=2: the model has 0 chains'),
    (dict(budget=dict(flops=0.5, blocks=3)), 'give exactly one of'),
    (dict(block_metric='L1Metric'), "scores 'conv_weight', not 'block_f"),
])
def test_bad_input_is_one_line_before_any_work(tmp_path, pretrained,
                                               train_main, algorithm,
                                               message):
    cfg = fusion_cfg(tmp_path, pretrained, **algorithm)
    work = tmp_path / 'work'
    with pytest.raises(SystemExit) as err:
        train_main([cfg, '--work-dir', str(work), '--seed', '0'])
    text = str(err.value)
    assert message in text and '\n' not in text.strip()
    assert not work.exists() or not list(work.glob('*.pth'))


def test_merge_through_the_algorithm(tmp_path, train_main):
    """MobileNetV2: the least important chains linearised, fine-tuned,
    merged at export; the merged model equals the fine-tuned one."""
    cfg = fusion_cfg(tmp_path, None, model=MBV2, budget=None, merge=3,
                     block_metric='FeatureChangeMetric')
    work = tmp_path / 'work'
    train_main([cfg, '--work-dir', str(work), '--seed', '0'])
    report = json.loads((work / 'fusion_report.json').read_text())
    assert len(report['merged_chains']) == 3
    assert len(json.loads((work / 'block_scores.json').read_text())[
        'chains']) == 16
    assert report['depth']['exported'] == report['depth']['unpruned'] - 6
    assert report['params']['ratio'] < 1 and report['flops']['ratio'] < 1
    acc = report['accuracy']
    assert acc['merged'] == pytest.approx(acc['after_finetune'], abs=0.3)
    state = torch.load(work / 'latest.pth', weights_only=True)
    assert int(state['state_dict']['fusion_linear'].sum()) == 3
    # merged chains: the step line counts the model as exported (merged)
    one_counter(report, load_pruned(cfg, str(work / 'fused_model.pth')))
