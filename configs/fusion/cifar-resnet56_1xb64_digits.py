# The classifier Fusion starts from: ResNet-56 (27 BasicBlocks) trained on
# the embedded digits, as ResNet-20's recipe:
#   tools/train.py <this config>
#       --work-dir work_dirs/cifar-resnet56_1xb64_digits
_base_ = ['../resnet/cifar-resnet20_1xb64_digits.py']
model = dict(backbone=dict(depth=56))
