# ResNet-18 on ImageNet-1k (folder layout; root: $IMAGENET_ROOT), mmcls's
# recipe: 8 GPUs x 32 images, SGD 0.1, x0.1 at epochs 30/60/90, 100 epochs.
_base_ = [
    '../_base_/models/resnet18.py', '../_base_/datasets/imagenet_bs64.py',
    '../_base_/schedules/sgd_step.py', '../_base_/default_runtime.py'
]
data = dict(samples_per_gpu=32, workers_per_gpu=2)
lr_config = dict(step=[30, 60, 90])
runner = dict(max_epochs=100)
log_config = dict(interval=100)
