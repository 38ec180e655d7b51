# ResNet-20 trained on CIFAR-10 (configs/resnet/cifar-resnet20_1xb128_
# cifar10.py), 50% of its FLOPs removed by L1 with one global ranking,
# fine-tuned 40 epochs (SGD 0.01, cosine). Data root: $CIFAR10_ROOT.
_base_ = ['../resnet/cifar-resnet20_1xb128_cifar10.py']
algorithm = dict(
    type='OneShot',
    pretrained='work_dirs/cifar-resnet20_1xb128_cifar10/epoch_200.pth',
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 32, 32)),
    metric=dict(type='L1Metric'),
    mode='diff',
    budget=dict(flops=0.5))
custom_hooks = [dict(type='OneShotHook', latency_batch_sizes=(1, 128))]
optimizer = dict(lr=0.01)
lr_config = dict(_delete_=True, policy='CosineAnnealing', min_lr=0)
runner = dict(max_epochs=40)
