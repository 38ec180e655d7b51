"""Small helpers every layer may use: the user-error type, atomic file
writes, distributed-run queries."""
from .checkpoint import check_checkpoint, state_dict_mismatch
from .dist import broadcast_object, is_distributed, rank
from .errors import UserInputError
from .file_io import atomic_write, save_module, write_json

__all__ = ['UserInputError', 'check_checkpoint', 'state_dict_mismatch',
           'atomic_write', 'write_json', 'save_module', 'is_distributed',
           'rank', 'broadcast_object']
