# Fusion on ResNet-20 trained on CIFAR-10 (Data root: $CIFAR10_ROOT): 9
# blocks down to 6 by CKA, fine-tuned 30 epochs.
_base_ = ['./fusion-blocks_cifar-resnet56_1xb128_cifar10.py']
model = dict(backbone=dict(depth=20))
algorithm = dict(
    pretrained='work_dirs/cifar-resnet20_1xb128_cifar10/latest.pth',
    architecture=dict(model=dict(backbone=dict(depth=20))),
    budget=dict(blocks=6))
runner = dict(max_epochs=30)
