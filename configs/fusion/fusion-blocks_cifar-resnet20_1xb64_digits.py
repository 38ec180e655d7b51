# Fusion block removal on the main job's ResNet-20 (embedded digits): the 9
# residual blocks scored by 1 - linear CKA between their input and output
# over 10 training batches, the least important removed down to 6 (stage
# transitions kept), fine-tuned 5 epochs, BN folded for deploy.
#   tools/train.py <this config> --work-dir work_dirs/fusion_resnet20
# Files: fusion_report.json, block_scores.json/png, fused_model.pth,
# deploy_model.pth (BN folded), checkpoints.
_base_ = ['../resnet/cifar-resnet20_1xb64_digits.py']
algorithm = dict(
    type='Fusion',
    # the trained classifier; the one setting to change for another model
    pretrained='work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth',
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 32, 32)),
    block_metric=dict(type='CKAMetric'),  # or 'FeatureChangeMetric'
    num_batches=10,  # training batches the block metric sees
    # blocks kept; or dict(flops=0.6) / dict(latency=0.6): fractions kept
    budget=dict(blocks=6),
    remove_transitions=False,  # True: downsample blocks may go too
    recalibrate_bn=10)
custom_hooks = [dict(type='FusionHook', latency_batch_sizes=(1, 32))]
optimizer = dict(lr=2e-3)
lr_config = dict(_delete_=True, policy='CosineAnnealing', min_lr=0)
runner = dict(max_epochs=5)
