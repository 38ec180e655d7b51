# CifarResNet-18 on the embedded scikit-learn digits, for scoring channels
# with CDP (tools/visualize_scores.py); no training schedule needed.
_base_ = [
    '../../../configs/_base_/models/cifar-resnet18.py',
    '../../../configs/_base_/datasets/digits_bs64.py',
]
custom_imports = dict(imports=['mmrazor_ext'], allow_failed_imports=False)
