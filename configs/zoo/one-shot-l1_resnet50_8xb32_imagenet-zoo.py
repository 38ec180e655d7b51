# OneShot from the OpenMMLab model zoo's ImageNet ResNet-50 (mmcls 0.25,
# 76.55 top-1): 30% of its FLOPs removed by L1 (global ranking, widths
# multiples of 8), fine-tuned 20 epochs:
#   tools/dist_train.sh 8 <this config>       Data root: $IMAGENET_ROOT
_base_ = [
    '../_base_/models/resnet50.py', '../_base_/datasets/imagenet_bs64.py',
    '../_base_/schedules/sgd_cosine.py', '../_base_/default_runtime.py'
]
data = dict(samples_per_gpu=32, workers_per_gpu=2)
algorithm = dict(
    type='OneShot',
    pretrained='https://download.openmmlab.com/mmclassification/v0/resnet/'
    'resnet50_8xb32_in1k_20210831-ea4938fc.pth',
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 224, 224), divisor=8),
    metric=dict(type='L1Metric'),
    mode='diff',
    budget=dict(flops=0.7))
custom_hooks = [dict(type='OneShotHook', latency_batch_sizes=(1, 32))]
optimizer = dict(lr=0.01)
lr_config = dict(warmup=None)
runner = dict(max_epochs=20)
log_config = dict(interval=100)
