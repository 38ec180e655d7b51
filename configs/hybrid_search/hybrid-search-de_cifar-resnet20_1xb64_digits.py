# HybridSearch with differential evolution (geatpy's DE/rand/1/bin) instead
# of SEGA. Commands as in hybrid-search-sega_cifar-resnet20_1xb64_digits.py.
_base_ = ['./hybrid-search-sega_cifar-resnet20_1xb64_digits.py']
searcher = dict(ea_algorithm='DE')
