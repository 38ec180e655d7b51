# mmcls's MobileNetV2 (width 1.0; 17 inverted residuals, 10 with an identity
# shortcut) trained on the embedded digits at 32x32:
#   tools/train.py <this config> --work-dir work_dirs/mobilenet-v2_1xb64_digits
_base_ = [
    '../_base_/models/mobilenet-v2.py', '../_base_/datasets/digits_bs64.py',
    '../_base_/schedules/adam_cosine.py', '../_base_/default_runtime.py'
]
model = dict(head=dict(num_classes=10))
optimizer = dict(lr=3e-3, weight_decay=1e-4)
lr_config = dict(warmup='linear', warmup_iters=20, warmup_ratio=0.1)
runner = dict(max_epochs=10)
log_config = dict(interval=23)
