"""Compatibility shims for installed packages, installed at import time
without editing them."""
from .mmcv_ops import (CompiledOpUnavailable, install, is_stand_in,
                       note_model)

__all__ = ['CompiledOpUnavailable', 'install', 'is_stand_in', 'note_model']
