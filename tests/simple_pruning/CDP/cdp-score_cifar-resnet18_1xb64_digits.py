# CifarResNet-18 on the embedded scikit-learn digits at 16x16, for scoring
# channels with tools/visualize_scores.py: the classifier of
# configs/fusion/cifar-resnet18_1xb64_digits.py, so the checkpoint
# visual_cdp_score_resnet18.sh trains (or the fusion example's) fits it.
_base_ = ['../../../configs/fusion/cifar-resnet18_1xb64_digits.py']
