# The joint latency search of
# hybrid-search-joint-latency_cifar-resnet20_1xb64_digits.py on mmcls's
# MobileNetV2 (width 1.0; 17 inverted residuals, 10 with an identity
# shortcut: removable), trained on the digits at 32x32 by
# configs/fusion/mobilenet-v2_1xb64_digits.py:
#   python tools/search.py <this config> \
#       work_dirs/mobilenet-v2_1xb64_digits/epoch_10.pth
_base_ = ['./hybrid-search-joint-latency_cifar-resnet20_1xb64_digits.py']
model = dict(
    _delete_=True,
    type='ImageClassifier',
    backbone=dict(type='MobileNetV2', widen_factor=1.0),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=1280,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
              topk=(1, 5)))
algorithm = dict(architecture=dict(model=model))
