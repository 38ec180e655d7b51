# CIFAR ResNet-18 (3x3 stem) on CIFAR-10, 50% of its FLOPs removed by FPGM
# with the same ratio in every space, fine-tuned 40 epochs.
# Data root: $CIFAR10_ROOT.
_base_ = [
    '../_base_/models/cifar-resnet18.py',
    '../_base_/datasets/cifar10_bs128.py',
    '../_base_/schedules/sgd_cosine.py', '../_base_/default_runtime.py'
]
algorithm = dict(
    type='OneShot',
    pretrained='work_dirs/cifar-resnet18_1xb128_cifar10/latest.pth',
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 32, 32)),
    metric=dict(type='FPGMMetric'),
    mode='uniform',
    budget=dict(flops=0.5))
custom_hooks = [dict(type='OneShotHook', latency_batch_sizes=(1, 128))]
optimizer = dict(lr=0.01)
lr_config = dict(warmup=None)
runner = dict(max_epochs=40)
