# The segmentation main job: the small FCN trained on the embedded digits
# segmentation data (configs/fcn/fcn_r18s3-w16-d8_1xb32_digits-seg.py),
# pruned to 50% of its FLOPs by L1 norm with one global ranking (the
# auxiliary head pruned with the backbone channels it reads), fine-tuned.
# mIoU / aAcc before and after are measured by mmseg's own evaluation.
_base_ = ['../fcn/fcn_r18s3-w16-d8_1xb32_digits-seg.py']
algorithm = dict(
    type='OneShot',
    # the trained segmentor; the one setting to change for another model
    pretrained='work_dirs/fcn_r18s3-w16-d8_1xb32_digits-seg/latest.pth',
    architecture=dict(type='MMSegArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 64, 64)),
    metric='L1Metric',
    mode='diff',  # 'uniform', 'diff' (global ranking) or 'nonuni'
    budget=dict(flops=0.5),  # fraction of the unpruned FLOPs kept
    recalibrate_bn=10)  # BN statistics of the pruned model, 10 batches
custom_hooks = [dict(type='OneShotHook', latency_batch_sizes=(1, 32))]
# fine-tuning
optimizer = dict(lr=1e-3)
lr_config = dict(_delete_=True, policy='CosineAnnealing', min_lr=0)
runner = dict(max_epochs=3)
