# Fusion on ResNet-56 trained on CIFAR-10 (Data root: $CIFAR10_ROOT): the 27
# blocks scored by CKA over 50 batches, removed down to 18, fine-tuned 40
# epochs.
_base_ = [
    '../_base_/models/cifar-resnet56.py',
    '../_base_/datasets/cifar10_bs128.py',
    '../_base_/schedules/sgd_cosine.py', '../_base_/default_runtime.py'
]
algorithm = dict(
    type='Fusion',
    pretrained='work_dirs/cifar-resnet56_1xb128_cifar10/latest.pth',
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 32, 32)),
    block_metric=dict(type='CKAMetric', grid=2),
    num_batches=50,
    budget=dict(blocks=18),
    recalibrate_bn=50)
custom_hooks = [dict(type='FusionHook', latency_batch_sizes=(1, 128))]
optimizer = dict(lr=0.01)
lr_config = dict(warmup=None)
runner = dict(max_epochs=40)
