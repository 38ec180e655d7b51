# AutoSlim, stage 1 of 3, after mmrazor's MobileNetV2 recipe
# (autoslim_mbv2_supernet_8xb256_in1k; the schedule is not tuned here):
# MobileNetV2 x1.5 trained on ImageNet-1k as a slimmable supernet, widths
# 2/12 ... 12/12 of every channel space, the widest net teaching the others
# (in-place distillation).
#   tools/dist_train.sh 8 <this config>
# Data root: $IMAGENET_ROOT (default data/imagenet).
_base_ = [
    '../_base_/datasets/imagenet_bs64.py', '../_base_/schedules/sgd_cosine.py',
    '../_base_/default_runtime.py'
]
model = dict(
    type='ImageClassifier',
    backbone=dict(type='MobileNetV2', widen_factor=1.5),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=1920,
              loss=dict(type='LabelSmoothLoss', mode='original',
                        label_smooth_val=0.1, loss_weight=1.0),
              topk=(1, 5)))
widths = [i / 12 for i in range(2, 13)]
algorithm = dict(
    type='AutoSlim',
    architecture=dict(type='MMClsArchitecture', model=model),
    distiller=dict(
        type='SelfDistiller',
        components=[
            dict(student_module='head.fc', teacher_module='head.fc',
                 losses=[dict(type='KLDivergence', name='loss_kd', tau=1,
                              loss_weight=1)])
        ]),
    pruner=dict(type='AutoSlimPruner', input_shape=(3, 224, 224),
                keep_ratios=widths),
    retraining=False,
    bn_training_mode=True,
    input_shape=None)  # FLOPs are counted for the search only
data = dict(samples_per_gpu=256, workers_per_gpu=4)
optimizer = dict(lr=0.8, weight_decay=4e-5, nesterov=True,
                 paramwise_cfg=dict(bias_decay_mult=0.0, norm_decay_mult=0.0))
# AutoSlim.train_step runs backward and the optimizer step itself
optimizer_config = None
lr_config = dict(warmup='linear', warmup_iters=3000, warmup_ratio=0.25)
runner = dict(max_epochs=50)
log_config = dict(interval=100)
