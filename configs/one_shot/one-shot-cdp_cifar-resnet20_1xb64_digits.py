# The main job: ResNet-20 trained on the embedded digits
# (configs/resnet/cifar-resnet20_1xb64_digits.py), pruned to 50% of its FLOPs
# by CDP with one global ranking, fine-tuned for 8 epochs.
_base_ = ['../resnet/cifar-resnet20_1xb64_digits.py']
algorithm = dict(
    type='OneShot',
    # the trained classifier; the one setting to change for another model
    pretrained='work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth',
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 32, 32)),
    metric=dict(type='CDPMetric', num_classes=10),
    num_batches=10,  # training batches the feature metric sees
    mode='diff',  # 'uniform', 'diff' (global ranking) or 'nonuni'
    budget=dict(flops=0.5),  # fraction of the unpruned FLOPs kept
    recalibrate_bn=10)  # BN statistics of the pruned model, 10 batches
custom_hooks = [dict(type='OneShotHook', latency_batch_sizes=(1, 64))]
# fine-tuning
optimizer = dict(lr=2e-3)
lr_config = dict(_delete_=True, policy='CosineAnnealing', min_lr=0)
runner = dict(max_epochs=8)
