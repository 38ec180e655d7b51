# CifarResNet-18 on the embedded scikit-learn digits, for scoring channels
# with tools/visualize_scores.py (tests/metrics/test_visualize_scores.py;
# the example script scores the trained ResNet-20 instead); no training
# schedule needed.
_base_ = [
    '../../../configs/_base_/models/cifar-resnet18.py',
    '../../../configs/_base_/datasets/digits_bs64.py',
]
custom_imports = dict(imports=['mmrazor_ext'], allow_failed_imports=False)
