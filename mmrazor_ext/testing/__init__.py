"""What the tests and the benchmarks under ``tools/benchmarks/`` share: the
model zoo the pruner is checked on, and independent reference counts.

Not imported by ``import mmrazor_ext``; nothing else in the package imports
it (it names mmcls and torchvision models, so it sits beside ``adapters/``
at the top of the layers, see docs/algorithms.md).
"""
