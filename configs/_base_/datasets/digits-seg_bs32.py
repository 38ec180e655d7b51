# scikit-learn's handwritten digits as semantic segmentation (ships with
# scikit-learn, nothing to download): 64x64 RGB images, stroke pixels
# labelled by their digit (classes '0'..'9', ids 1-10), the rest
# 'background' (0); seeded stratified split: 1,437 train, 360 val.
dataset_type = 'DigitsSegmentation'
img_norm_cfg = dict(mean=[40.0] * 3, std=[80.0] * 3, to_rgb=False)
train_pipeline = [
    dict(type='RandomCrop', crop_size=(56, 56)),
    dict(type='Pad', size=(64, 64), pad_val=0, seg_pad_val=0),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg'])
]
test_pipeline = [
    dict(
        type='MultiScaleFlipAug',
        img_scale=(64, 64),
        flip=False,
        transforms=[
            dict(type='Resize', keep_ratio=True),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img'])
        ])
]
data = dict(
    samples_per_gpu=32,
    workers_per_gpu=0,
    persistent_workers=False,  # in-memory data: no worker processes
    train=dict(type=dataset_type, split='train', pipeline=train_pipeline),
    val=dict(type=dataset_type, split='val', pipeline=test_pipeline,
             test_mode=True),
    test=dict(type=dataset_type, split='val', pipeline=test_pipeline,
              test_mode=True))
evaluation = dict(interval=1, metric='mIoU')
