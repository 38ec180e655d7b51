# As the main job, ranking filters by their distance to the others (FPGM).
_base_ = ['./one-shot-cdp_cifar-resnet20_1xb64_digits.py']
algorithm = dict(metric=dict(_delete_=True, type='FPGMMetric'))
