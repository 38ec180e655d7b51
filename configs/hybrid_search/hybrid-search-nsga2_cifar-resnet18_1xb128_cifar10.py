# HybridSearch of CIFAR ResNet-18 on CIFAR-10, multi-objective (NSGA-II:
# search top-1 and FLOPs, up to 70% of the FLOPs). Commands as in
# hybrid-search-sega_cifar-resnet18_1xb128_cifar10.py.
_base_ = ['./hybrid-search-sega_cifar-resnet18_1xb128_cifar10.py']
searcher = dict(ea_algorithm='NSGA2', budget=dict(flops=0.7))
