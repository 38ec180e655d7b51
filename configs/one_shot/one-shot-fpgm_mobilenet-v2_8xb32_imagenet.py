# MobileNetV2 (mmcls, width 1.0) trained on ImageNet-1k, 30% of its FLOPs
# removed by FPGM with one global ranking (kept widths multiples of 8),
# fine-tuned 20 epochs on 8 GPUs:
#   tools/dist_train.sh 8 <this config>       Data root: $IMAGENET_ROOT
_base_ = [
    '../_base_/models/mobilenet-v2.py', '../_base_/datasets/imagenet_bs64.py',
    '../_base_/schedules/sgd_cosine.py', '../_base_/default_runtime.py'
]
data = dict(samples_per_gpu=32, workers_per_gpu=2)
algorithm = dict(
    type='OneShot',
    pretrained='work_dirs/mobilenet-v2_8xb32_imagenet/latest.pth',
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 224, 224), divisor=8),
    metric=dict(type='FPGMMetric'),
    mode='diff',
    budget=dict(flops=0.7))
custom_hooks = [dict(type='OneShotHook', latency_batch_sizes=(1, 32))]
optimizer = dict(lr=0.01, weight_decay=4e-5)
lr_config = dict(warmup=None)
runner = dict(max_epochs=20)
log_config = dict(interval=100)
