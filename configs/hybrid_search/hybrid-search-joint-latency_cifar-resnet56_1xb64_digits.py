# The joint latency search of
# hybrid-search-joint-latency_cifar-resnet20_1xb64_digits.py on ResNet-56
# (27 residual blocks, 24 removable), trained on the digits by
# configs/fusion/cifar-resnet56_1xb64_digits.py:
#   python tools/search.py <this config> \
#       work_dirs/cifar-resnet56_1xb64_digits/epoch_10.pth
_base_ = ['./hybrid-search-joint-latency_cifar-resnet20_1xb64_digits.py']
model = dict(backbone=dict(depth=56))
algorithm = dict(architecture=dict(model=dict(backbone=dict(depth=56))))
