# As one-shot-l1_resnet18_8xb32_imagenet.py, ranking channels by CDP
# (class-wise statistics of 100 training batches per GPU, all-reduced).
_base_ = ['./one-shot-l1_resnet18_8xb32_imagenet.py']
algorithm = dict(
    metric=dict(_delete_=True, type='CDPMetric', num_classes=1000),
    num_batches=100)
