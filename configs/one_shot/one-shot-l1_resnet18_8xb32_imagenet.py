# ResNet-18 trained on ImageNet-1k (configs/resnet/resnet18_8xb32_
# imagenet.py), 30% of its FLOPs removed by L1 with one global ranking
# (kept widths multiples of 8), fine-tuned 20 epochs on 8 GPUs:
#   tools/dist_train.sh 8 <this config>       Data root: $IMAGENET_ROOT
_base_ = ['../resnet/resnet18_8xb32_imagenet.py']
algorithm = dict(
    type='OneShot',
    pretrained='work_dirs/resnet18_8xb32_imagenet/epoch_100.pth',
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 224, 224), divisor=8),
    metric=dict(type='L1Metric'),
    mode='diff',
    budget=dict(flops=0.7))
custom_hooks = [dict(type='OneShotHook', latency_batch_sizes=(1, 32))]
optimizer = dict(lr=0.01)
lr_config = dict(_delete_=True, policy='CosineAnnealing', min_lr=0)
runner = dict(max_epochs=20)
