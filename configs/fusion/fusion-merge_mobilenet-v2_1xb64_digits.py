# DepthShrinker-style layer merging on MobileNetV2 (embedded digits, 32x32):
# the ReLU6s of the 8 least important inverted residuals (scored by how
# much their first activation changes its input) are removed, the model is
# fine-tuned so, and at export each linear pw-dw-pw chain (BN folded, the
# identity shortcut as a kernel) becomes one dense 3x3 conv. Only chains
# whose merged conv has no more FLOPs than the chain are candidates.
# Train the classifier first: configs/fusion/mobilenet-v2_1xb64_digits.py
_base_ = ['./mobilenet-v2_1xb64_digits.py']
algorithm = dict(
    type='Fusion',
    pretrained='work_dirs/mobilenet-v2_1xb64_digits/epoch_10.pth',
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 32, 32)),
    block_metric=dict(type='FeatureChangeMetric'),
    num_batches=10,
    merge=8,  # chains linearised and merged
    recalibrate_bn=10)
custom_hooks = [dict(type='FusionHook', latency_batch_sizes=(1, 32))]
optimizer = dict(lr=1e-3)
lr_config = dict(_delete_=True, policy='CosineAnnealing', min_lr=0)
runner = dict(max_epochs=5)
