"""Files written atomically: a temporary file beside the target, then a
rename, so a reader (or a crash) never leaves half a file, and the file
gets the permissions the user's umask gives any new file."""
import json
import os
import tempfile
from typing import Callable


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str, write: Callable[[str], None]) -> None:
    """``write(tmp_path)`` into a temporary file beside ``path``, then
    rename it over ``path``; on failure ``path`` is left as it was."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.',
                               suffix='.tmp', dir=folder)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_json(obj, path: str, indent: int = 1) -> None:
    """``json.dump`` of ``obj`` to ``path``, atomically."""
    def write(tmp):
        with open(tmp, 'w') as f:
            json.dump(obj, f, indent=indent)
    atomic_write(path, write)


def save_module(module, path: str) -> None:
    """``torch.save`` of a whole module (or any object), atomically."""
    import torch
    atomic_write(path, lambda tmp: torch.save(module, tmp))
