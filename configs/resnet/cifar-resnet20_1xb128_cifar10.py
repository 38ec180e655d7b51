# ResNet-20 on CIFAR-10 (He et al., 2016 recipe: SGD 0.1, x0.1 at epochs
# 100 and 150, 200 epochs; ~91.7% top-1). Data root: $CIFAR10_ROOT.
_base_ = [
    '../_base_/models/cifar-resnet20.py',
    '../_base_/datasets/cifar10_bs128.py',
    '../_base_/schedules/sgd_step.py', '../_base_/default_runtime.py'
]
