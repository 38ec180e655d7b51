# As the main job, ranking channels by the L1 norm of their filters.
_base_ = ['./one-shot-cdp_cifar-resnet20_1xb64_digits.py']
algorithm = dict(metric=dict(_delete_=True, type='L1Metric'))
