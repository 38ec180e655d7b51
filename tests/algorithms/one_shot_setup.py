"""Small OneShot runs on the embedded digits at 16x16 pixels."""
import os.path as osp

import mmrazor_ext  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL = dict(type='ImageClassifier',
             backbone=dict(type='CifarResNet', depth=20),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=10, in_channels=64,
                       loss=dict(type='CrossEntropyLoss'), topk=(1, 5)))
NORM = dict(type='Normalize', mean=[80.0] * 3, std=[110.0] * 3, to_rgb=False)
DIGITS = dict(type='SklearnDigits', img_size=16)
DATA = dict(
    samples_per_gpu=64, workers_per_gpu=0, persistent_workers=False,
    # ~180 images each (train and val overlap: fine for flow tests)
    train=dict(**DIGITS, split='train', val_fraction=0.9, pipeline=[
        NORM, dict(type='ImageToTensor', keys=['img']),
        dict(type='ToTensor', keys=['gt_label']),
        dict(type='Collect', keys=['img', 'gt_label'])]),
    val=dict(**DIGITS, split='val', val_fraction=0.1, pipeline=[
        NORM, dict(type='ImageToTensor', keys=['img']),
        dict(type='Collect', keys=['img'])]))
DATA['test'] = DATA['val']


def one_shot_cfg(pretrained, top=None, **algorithm):
    """A full train.py config (as text) of a OneShot run; ``top``
    replaces top-level keys."""
    algo = dict(type='OneShot', pretrained=pretrained,
                architecture=dict(type='MMClsArchitecture', model=MODEL),
                pruner=dict(type='ChannelPruner', input_shape=(3, 16, 16)),
                metric=dict(type='CDPMetric', num_classes=10),
                num_batches=2, mode='diff', budget=dict(flops=0.5),
                data=DATA)
    algo.update(algorithm)
    cfg = dict(
        custom_imports=dict(imports=['mmrazor_ext'],
                            allow_failed_imports=False),
        model=MODEL, algorithm=algo, data=DATA,
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-3),
        optimizer_config=dict(grad_clip=None),
        lr_config=dict(policy='fixed'),
        runner=dict(type='SafeEpochBasedRunner', max_epochs=1),
        checkpoint_config=dict(interval=1),
        log_config=dict(interval=5, hooks=[dict(type='TextLoggerHook')]),
        evaluation=dict(interval=1, metric='accuracy',
                        metric_options=dict(topk=(1, 5))),
        custom_hooks=[dict(type='OneShotHook', latency_time=0.05)],
        log_level='INFO', dist_params=dict(backend=None), load_from=None,
        resume_from=None, workflow=[('train', 1)])
    cfg.update(top or {})
    return '\n'.join(f'{k} = {v!r}' for k, v in cfg.items()) + '\n'


def write_cfg(folder, pretrained, name='one_shot.py', top=None,
              **algorithm):
    path = osp.join(str(folder), name)
    with open(path, 'w') as f:
        f.write(one_shot_cfg(pretrained, top, **algorithm))
    return path
