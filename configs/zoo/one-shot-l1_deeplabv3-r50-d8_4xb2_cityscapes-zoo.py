# OneShot from the OpenMMLab model zoo's Cityscapes DeepLabV3 R50-D8
# (mmseg 0.30, 512x1024 crops, 80k iterations, 79.32 mIoU):
# 50% of its FLOPs removed by L1 with one global ranking (widths
# multiples of 8; the auxiliary head pruned with the backbone channels it
# reads), fine-tuned 20 epochs on 4 GPUs,
# mIoU / aAcc by mmseg's evaluation. The checkpoint is downloaded once
# into torch's cache ($TORCH_HOME/hub/checkpoints):
#   tools/dist_train.sh 4 <this config>       Data root: $CITYSCAPES_ROOT
_base_ = [
    '../_base_/models/deeplabv3_r50-d8.py', '../_base_/datasets/cityscapes.py',
    '../_base_/schedules/sgd_cosine.py', '../_base_/default_runtime.py'
]
algorithm = dict(
    type='OneShot',
    pretrained='https://download.openmmlab.com/mmsegmentation/v0.5/'
    'deeplabv3/deeplabv3_r50-d8_512x1024_80k_cityscapes/'
    'deeplabv3_r50-d8_512x1024_80k_cityscapes_20200606_113404-b92cfdd4.pth',
    architecture=dict(type='MMSegArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 512, 1024), divisor=8),
    metric='L1Metric',
    mode='diff',
    budget=dict(flops=0.5),
    recalibrate_bn=50)
custom_hooks = [dict(type='OneShotHook', latency_batch_sizes=(1, ))]
optimizer = dict(lr=0.001, weight_decay=5e-4)
lr_config = dict(warmup=None)
runner = dict(max_epochs=20)
log_config = dict(interval=50)
