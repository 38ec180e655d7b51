# CIFAR ResNet-18 (3x3 stem, no max-pool; 8 BasicBlocks) trained on the
# embedded digits at 16x16 (the 8x8 digits lose nothing; 4x cheaper than
# 32x32 on a CPU):
#   tools/train.py <this config>
#       --work-dir work_dirs/cifar-resnet18_1xb64_digits
_base_ = [
    '../_base_/models/cifar-resnet18.py', '../_base_/datasets/digits_bs64.py',
    '../_base_/schedules/adam_cosine.py', '../_base_/default_runtime.py'
]
img_norm_cfg = dict(mean=[80.0] * 3, std=[110.0] * 3, to_rgb=False)
train_pipeline = [
    dict(type='RandomCrop', size=16, padding=1),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='ImageToTensor', keys=['img']),
    dict(type='ToTensor', keys=['gt_label']),
    dict(type='Collect', keys=['img', 'gt_label'])
]
data = dict(train=dict(img_size=16, pipeline=train_pipeline),
            val=dict(img_size=16), test=dict(img_size=16))
optimizer = dict(lr=2e-3, weight_decay=1e-4)
lr_config = dict(warmup='linear', warmup_iters=20, warmup_ratio=0.1)
runner = dict(max_epochs=3)
log_config = dict(interval=23)
