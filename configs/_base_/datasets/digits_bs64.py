# scikit-learn's handwritten digits (ships with scikit-learn, nothing to
# download) as 32x32 RGB images; seeded stratified split: 1,437 train, 360 val.
dataset_type = 'SklearnDigits'
img_norm_cfg = dict(mean=[80.0] * 3, std=[110.0] * 3, to_rgb=False)
train_pipeline = [
    dict(type='RandomCrop', size=32, padding=2),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='ImageToTensor', keys=['img']),
    dict(type='ToTensor', keys=['gt_label']),
    dict(type='Collect', keys=['img', 'gt_label'])
]
test_pipeline = [
    dict(type='Normalize', **img_norm_cfg),
    dict(type='ImageToTensor', keys=['img']),
    dict(type='Collect', keys=['img'])
]
data = dict(
    samples_per_gpu=64,
    workers_per_gpu=0,
    persistent_workers=False,  # in-memory data: no worker processes
    train=dict(type=dataset_type, split='train', pipeline=train_pipeline),
    val=dict(type=dataset_type, split='val', pipeline=test_pipeline,
             test_mode=True),
    test=dict(type=dataset_type, split='val', pipeline=test_pipeline,
              test_mode=True))
evaluation = dict(interval=1, metric='accuracy',
                  metric_options=dict(topk=(1, 5)))
