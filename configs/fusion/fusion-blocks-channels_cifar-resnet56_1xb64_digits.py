# Blocks first, then channels, in one run: ResNet-56 blocks removed to 70%
# of the FLOPs, then 30% of the remaining FLOPs pruned by L1 (one global
# ranking), fine-tuned on the physically smaller model.
_base_ = ['./fusion-blocks_cifar-resnet56_1xb64_digits.py']
algorithm = dict(
    budget=dict(_delete_=True, flops=0.7),
    metric=dict(type='L1Metric'),  # the channel metric
    channels=dict(budget=dict(flops=0.7), mode='diff'))
