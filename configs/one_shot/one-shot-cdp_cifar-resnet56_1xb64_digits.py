# ResNet-56 on the embedded digits, pruned to 50% FLOPs by CDP. Train it
# first with: tools/train.py configs/resnet/cifar-resnet20_1xb64_digits.py
#   --work-dir work_dirs/cifar-resnet56_1xb64_digits
#   --cfg-options model.backbone.depth=56
_base_ = ['./one-shot-cdp_cifar-resnet20_1xb64_digits.py']
model = dict(backbone=dict(depth=56))
algorithm = dict(
    pretrained='work_dirs/cifar-resnet56_1xb64_digits/epoch_10.pth',
    architecture=dict(model=dict(backbone=dict(depth=56))))
