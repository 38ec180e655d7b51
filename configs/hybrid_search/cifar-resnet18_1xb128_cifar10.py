# The model HybridSearch searches on CIFAR-10: CIFAR ResNet-18 (3x3 stem),
# trained from scratch (scripts/hybrid_search/run_hybrid_cifar_resnet18.sh
# trains it when no checkpoint is given). Data root: $CIFAR10_ROOT.
_base_ = [
    '../_base_/models/cifar-resnet18.py',
    '../_base_/datasets/cifar10_bs128.py',
    '../_base_/schedules/sgd_cosine.py', '../_base_/default_runtime.py'
]
runner = dict(max_epochs=100)
