# Fusion on CIFAR ResNet-18 trained on CIFAR-10 (Data root: $CIFAR10_ROOT):
# blocks removed to 60% of the FLOPs by CKA over 50 batches, fine-tuned 30
# epochs.
_base_ = [
    '../_base_/models/cifar-resnet18.py',
    '../_base_/datasets/cifar10_bs128.py',
    '../_base_/schedules/sgd_cosine.py', '../_base_/default_runtime.py'
]
algorithm = dict(
    type='Fusion',
    pretrained='work_dirs/cifar-resnet18_1xb128_cifar10/latest.pth',
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 32, 32)),
    block_metric=dict(type='CKAMetric', grid=2),
    num_batches=50,
    budget=dict(flops=0.6),
    remove_transitions=True,
    recalibrate_bn=50)
custom_hooks = [dict(type='FusionHook', latency_batch_sizes=(1, 128))]
optimizer = dict(lr=0.01)
lr_config = dict(warmup=None)
runner = dict(max_epochs=30)
