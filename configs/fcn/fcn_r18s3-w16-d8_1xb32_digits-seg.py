# The segmentation main job's model: a small FCN (three stages of ResNetV1c-18
# at 1/4 width, auxiliary head) on the embedded digits segmentation data.
_base_ = [
    '../_base_/models/fcn_r18s3-w16-d8.py',
    '../_base_/datasets/digits-seg_bs32.py',
    '../_base_/schedules/adam_cosine.py', '../_base_/default_runtime.py'
]
optimizer = dict(lr=1e-2, weight_decay=1e-4)
lr_config = dict(warmup='linear', warmup_iters=20, warmup_ratio=0.1)
runner = dict(max_epochs=10)
log_config = dict(interval=15)  # 45 iterations = one epoch
