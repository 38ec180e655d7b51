# ImageNet-1k in folder layout: <root>/train/<class>/*.JPEG and
# <root>/val/<class>/*.JPEG (ann_file=None: labels from sorted folder
# names). Set the root with $IMAGENET_ROOT or --cfg-options
# data.train.data_prefix=... data.val.data_prefix=...
# ImageNetFolder is mmcls's ImageNet with any number of class folders
# (not 1000: the classes are the folder names) and unreadable images named;
# --cfg-options data.train.on_unreadable=skip skips them instead.
import os

data_root = os.environ.get('IMAGENET_ROOT', 'data/imagenet')
# named in the one-line error when a data path is missing
data_root_env = 'IMAGENET_ROOT'
dataset_type = 'ImageNetFolder'
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', size=224),
    dict(type='RandomFlip', flip_prob=0.5, direction='horizontal'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='ImageToTensor', keys=['img']),
    dict(type='ToTensor', keys=['gt_label']),
    dict(type='Collect', keys=['img', 'gt_label'])
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', size=(256, -1)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='ImageToTensor', keys=['img']),
    dict(type='Collect', keys=['img'])
]
data = dict(
    samples_per_gpu=64,
    workers_per_gpu=4,
    train=dict(type=dataset_type, data_prefix=f'{data_root}/train',
               ann_file=None, pipeline=train_pipeline),
    val=dict(type=dataset_type, data_prefix=f'{data_root}/val',
             ann_file=None, pipeline=test_pipeline),
    test=dict(type=dataset_type, data_prefix=f'{data_root}/val',
              ann_file=None, pipeline=test_pipeline))
evaluation = dict(interval=1, metric='accuracy',
                  metric_options=dict(topk=(1, 5)))
