"""Silence the warnings that every process prints and that are known to
be harmless here. Standard library only: imported first by the package
(and so by every tool, which imports ``mmrazor_ext`` before mmcv), before
the imports that print them.

- ``No CUDA runtime is found, using CUDA_HOME=...``: torch's
  ``cpp_extension`` logs it on import (mmcv imports it) on every machine
  without a GPU; nothing here compiles extensions.
- ``Fail to import MultiScaleDeformableAttention ... install mmcv-full``:
  mmcv without compiled ops, on import. A model that calls a compiled op
  still fails with one line naming it (:mod:`mmrazor_ext.compat.mmcv_ops`).
"""
import logging
import warnings

logging.getLogger('torch.utils.cpp_extension').setLevel(logging.ERROR)
warnings.filterwarnings(
    'ignore', message=r'Fail to import ``MultiScaleDeformableAttention``')
