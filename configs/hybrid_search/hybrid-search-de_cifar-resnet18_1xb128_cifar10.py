# HybridSearch of CIFAR ResNet-18 on CIFAR-10 with differential evolution
# (DE/rand/1/bin). Commands as in
# hybrid-search-sega_cifar-resnet18_1xb128_cifar10.py.
_base_ = ['./hybrid-search-sega_cifar-resnet18_1xb128_cifar10.py']
searcher = dict(ea_algorithm='DE')
