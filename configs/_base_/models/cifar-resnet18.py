# ResNet-18 with a 3x3 stride-1 stem and no max-pool, for 32x32 input.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='CifarResNet', depth=18),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
