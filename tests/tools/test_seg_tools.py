"""tools/train.py and tools/test.py on an mmseg segmentor, in this
process: train the small FCN on the digits segmentation data (a 180-image
split at 32x32, 1 epoch), evaluate it, run OneShot on it end to end
(mIoU / aAcc in the report by mmseg's evaluation) and evaluate the pruned
checkpoint; bad input is one line before any work."""
import json
import os
import re

import pytest

import mmrazor_ext  # noqa: F401  (first: mmseg needs its mmcv.ops stand-in)
from tool_runner import ROOT, run_main

pytest.importorskip('mmseg.models')
FCN = f'{ROOT}/configs/fcn/fcn_r18s3-w16-d8_1xb32_digits-seg.py'
ONE_SHOT = (f'{ROOT}/configs/one_shot/'
            'one-shot-l1_fcn-r18s3-w16-d8_1xb32_digits-seg.py')
# 180 val images at 32x32 serve as train and val: a few seconds per epoch
TINY_DATA = """
norm = dict(type='Normalize', mean=[40.0] * 3, std=[80.0] * 3,
            to_rgb=False)
tiny = dict(split='val', val_fraction=0.1, img_size=32)
test_pipeline = [dict(
    type='MultiScaleFlipAug', img_scale=(32, 32), flip=False,
    transforms=[dict(type='Resize', keep_ratio=True), norm,
                dict(type='ImageToTensor', keys=['img']),
                dict(type='Collect', keys=['img'])])]
data = dict(
    train=dict(**tiny, pipeline=[
        norm, dict(type='DefaultFormatBundle'),
        dict(type='Collect', keys=['img', 'gt_semantic_seg'])]),
    val=dict(**tiny, pipeline=test_pipeline),
    test=dict(**tiny, pipeline=test_pipeline))
runner = dict(max_epochs=1)
log_config = dict(interval=2)
"""


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('seg_tools')
    train_cfg = tmp / 'fcn_tiny.py'
    train_cfg.write_text(f'_base_ = [{FCN!r}]\n{TINY_DATA}')
    prune_cfg = tmp / 'one_shot_tiny.py'
    prune_cfg.write_text(
        f'_base_ = [{ONE_SHOT!r}]\n{TINY_DATA}'
        'algorithm = dict(pruner=dict(input_shape=(3, 32, 32)),\n'
        '                 recalibrate_bn=2)\n'
        "custom_hooks = [dict(type='OneShotHook', latency_time=0.05,\n"
        '                     latency_batch_sizes=(1, ))]\n')
    trained, pruned = tmp / 'trained', tmp / 'pruned'
    out = dict(tmp=tmp, train_cfg=str(train_cfg), prune_cfg=str(prune_cfg),
               trained=trained, pruned=pruned)
    out['train_log'] = run_main('train', [train_cfg, '--work-dir', trained,
                                          '--seed', '0'])
    out['prune_log'] = run_main('train', [
        prune_cfg, '--work-dir', pruned, '--seed', '0', '--cfg-options',
        f'algorithm.pretrained={trained}/latest.pth'])
    return out


def test_train_and_test_a_segmentor(runs):
    assert 'mIoU' in runs['train_log'] and os.path.isfile(
        runs['trained'] / 'latest.pth')
    out = runs['tmp'] / 'metrics.json'
    log = run_main('test', [runs['train_cfg'], runs['trained'] /
                            'latest.pth', '--out', out])
    metrics = json.load(open(out))['metrics']
    assert 0 <= metrics['mIoU'] <= 1 and 0.5 <= metrics['aAcc'] <= 1
    assert 'mIoU' in log


def test_one_shot_on_a_segmentor(runs):
    report = json.load(open(runs['pruned'] / 'oneshot_report.json'))
    acc = report['accuracy']
    for stage in ('before_pruning', 'after_pruning', 'after_recalibration',
                  'after_finetune'):
        assert set(acc[stage]) == {'mIoU', 'aAcc'}, stage
    assert 0.45 <= report['flops']['ratio'] <= 0.55
    assert report['params']['ratio'] < 0.6
    assert re.search(r'stage +mIoU +aAcc', runs['prune_log'])
    # the pruned checkpoint, evaluated by test.py with the same config,
    # scores what the report measured after fine-tuning (same val data)
    out = runs['tmp'] / 'pruned.json'
    run_main('test', [runs['prune_cfg'], runs['pruned'] / 'latest.pth',
                      '--out', out, '--cfg-options',
                      'algorithm.pretrained=None'])
    metrics = json.load(open(out))['metrics']
    assert metrics['mIoU'] * 100 == pytest.approx(
        acc['after_finetune']['mIoU'], abs=0.02)
    # the weights-only model file evaluates to the same numbers
    out = runs['tmp'] / 'model_file.json'
    run_main('test', [runs['prune_cfg'], runs['pruned'] / 'pruned_model.pth',
                      '--out', out])
    assert json.load(open(out))['metrics'] == metrics
    ort = report['runtime_latency_ms']['onnxruntime']['batch_1']
    assert ort['unpruned'] > 0 and ort['exported'] > 0


@pytest.mark.parametrize('name', ['latest.pth', 'deploy_model.pth'])
def test_deploy_a_segmentor(runs, name, capsys):
    out = runs['tmp'] / f'deploy_{name}'
    run_main('deploy', [runs['prune_cfg'], runs['pruned'] / name, '--out',
                        out, '--latency-time', '0.02'])
    info = json.load(open(out / 'deploy.json'))
    check = info['check']
    assert check['images'] == 'val' and check['input_shape'][1:] == [
        3, 32, 32]
    assert check['backends']['onnxruntime']['equal']
    assert info['onnx']['output_shapes'][0][1:] == [11, 32, 32]
    assert info['bn_folded'] > 0 or name == 'deploy_model.pth'
    assert 0.45 <= info['flops']['kept'] <= 0.55
    assert info['latency_ms']['backends']['onnxruntime']['batch_1'][
        'speedup'] > 0


def _error(tool, argv):
    with pytest.raises(SystemExit) as exit_:
        run_main(tool, argv)
    line = str(exit_.value.code)
    assert line.startswith(f'{tool}.py: error: ') and '\n' not in line
    return line


def test_bad_input_is_one_line(runs, tmp_path):
    line = _error('train', [runs['train_cfg'], '--work-dir', tmp_path / 'w',
                            '--cfg-options', 'evaluation.metric=mIoUU'])
    assert "'mIoUU' is not a metric of DigitsSegmentation" in line
    assert 'did you mean mIoU?' in line
    line = _error('test', [runs['train_cfg'], runs['trained'] /
                           'latest.pth', '--metrics', 'accuracy'])
    assert "--metrics 'accuracy'" in line
    line = _error('train', [runs['train_cfg'], '--work-dir', tmp_path / 'w',
                            '--cfg-options', 'data.train.treshold=0.3'])
    assert 'did you mean data.train.threshold?' in line
    assert not (tmp_path / 'w').exists()
