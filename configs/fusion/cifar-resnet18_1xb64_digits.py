# CIFAR ResNet-18 (3x3 stem, no max-pool; 8 BasicBlocks) trained on the
# embedded digits at 32x32:
#   tools/train.py <this config>
#       --work-dir work_dirs/cifar-resnet18_1xb64_digits
_base_ = [
    '../_base_/models/cifar-resnet18.py', '../_base_/datasets/digits_bs64.py',
    '../_base_/schedules/adam_cosine.py', '../_base_/default_runtime.py'
]
optimizer = dict(lr=2e-3, weight_decay=1e-4)
lr_config = dict(warmup='linear', warmup_iters=20, warmup_ratio=0.1)
runner = dict(max_epochs=6)
log_config = dict(interval=23)
