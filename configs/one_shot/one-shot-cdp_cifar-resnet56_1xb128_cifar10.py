# ResNet-56 trained on CIFAR-10 (configs/resnet/cifar-resnet56_1xb128_
# cifar10.py), 50% of its FLOPs removed by CDP (statistics of 50 training
# batches), fine-tuned 40 epochs. Data root: $CIFAR10_ROOT.
_base_ = ['../resnet/cifar-resnet56_1xb128_cifar10.py']
algorithm = dict(
    type='OneShot',
    pretrained='work_dirs/cifar-resnet56_1xb128_cifar10/epoch_200.pth',
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 32, 32)),
    metric=dict(type='CDPMetric', num_classes=10),
    num_batches=50,
    mode='diff',
    budget=dict(flops=0.5))
custom_hooks = [dict(type='OneShotHook', latency_batch_sizes=(1, 128))]
optimizer = dict(lr=0.01)
lr_config = dict(_delete_=True, policy='CosineAnnealing', min_lr=0)
runner = dict(max_epochs=40)
