# HybridSearch, multi-objective: NSGA-II over search top-1 and FLOPs (a
# Pareto front of widths up to the budget); the train stage takes the most
# accurate subnet within the budget. Commands as in
# hybrid-search-sega_cifar-resnet20_1xb64_digits.py.
_base_ = ['./hybrid-search-sega_cifar-resnet20_1xb64_digits.py']
searcher = dict(ea_algorithm='NSGA2', budget=dict(flops=0.7), population=16,
                generations=8)
