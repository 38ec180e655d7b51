# Fusion on CIFAR ResNet-18 (embedded digits, 16x16): 8 BasicBlocks scored by
# CKA, 2 removed (transitions kept), fine-tuned. BasicBlock's 3x3-3x3 chain
# is not merged: under zero padding it is not one conv at the borders, and
# its 5x5 merge has more FLOPs (see docs/fusion.md).
# scripts/fusion_merge/run_fusion_cifar_resnet18.sh runs it (all modes).
_base_ = ['./cifar-resnet18_1xb64_digits.py']
algorithm = dict(
    type='Fusion',
    pretrained='work_dirs/cifar-resnet18_1xb64_digits/epoch_3.pth',
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 16, 16)),
    block_metric=dict(type='CKAMetric'),
    num_batches=10,
    budget=dict(blocks=6),
    recalibrate_bn=10)
custom_hooks = [dict(type='FusionHook', latency_batch_sizes=(1, 32))]
optimizer = dict(lr=1e-3)
lr_config = dict(_delete_=True, policy='CosineAnnealing', min_lr=0)
runner = dict(max_epochs=2)
