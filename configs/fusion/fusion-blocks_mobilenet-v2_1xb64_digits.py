# MobileNetV2 (embedded digits, 32x32): its 10 inverted residuals with an
# identity shortcut scored by CKA, removed to 70% of the FLOPs.
_base_ = ['./fusion-merge_mobilenet-v2_1xb64_digits.py']
algorithm = dict(block_metric=dict(_delete_=True, type='CKAMetric'),
                 merge=None, budget=dict(flops=0.7))
