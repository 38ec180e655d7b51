# The main job's model: ResNet-20 on the embedded digits (1,437 train /
# 360 val images); ~99% val top-1 in about 1.5 min on 2 CPU cores.
_base_ = [
    '../_base_/models/cifar-resnet20.py',
    '../_base_/datasets/digits_bs64.py',
    '../_base_/schedules/adam_cosine.py', '../_base_/default_runtime.py'
]
optimizer = dict(lr=3e-3, weight_decay=1e-4)
lr_config = dict(warmup='linear', warmup_iters=20, warmup_ratio=0.1)
runner = dict(max_epochs=10)
log_config = dict(interval=23)  # 23 iterations = one epoch
