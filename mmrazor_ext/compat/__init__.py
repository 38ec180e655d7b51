"""Compatibility shims for installed packages, installed at import time
without editing them."""
# mmcv_ops may have been run at interpreter start (_mmrazor_ext_startup):
# bound here as well, like a submodule imported through the package
from . import mmcv_ops  # noqa: F401
from .mmcv_ops import (CompiledOpUnavailable, install, is_stand_in,
                       note_model)

__all__ = ['CompiledOpUnavailable', 'install', 'is_stand_in', 'note_model']
