# Fusion on ResNet-56 (embedded digits): blocks removed to 50% of the
# measured batch-1 CPU latency (bisection over the importance order).
# Train the classifier first: configs/fusion/cifar-resnet56_1xb64_digits.py
_base_ = ['./fusion-blocks_cifar-resnet20_1xb64_digits.py']
model = dict(backbone=dict(depth=56))
algorithm = dict(
    pretrained='work_dirs/cifar-resnet56_1xb64_digits/epoch_10.pth',
    architecture=dict(model=dict(backbone=dict(depth=56))),
    budget=dict(_delete_=True, latency=0.5))
