"""The state a search saves after each generation (population, the
evolution's generator, cache, history), and what it must match to be
resumed: the same settings, checkpoint and latency table."""
import hashlib
import json
import os
import os.path as osp
import pickle
from typing import Callable, Optional

from ..utils import atomic_write, rank

STATE = 'hybrid_search_state.pkl'


def fingerprint(searcher) -> str:
    """Settings, checkpoint and latency table (entries and constant): a
    saved state resumes only with the same ones."""
    stat = os.stat(searcher.checkpoint)
    table = searcher.latency_table
    lut = None if table is None else [sorted(table.entries.items()),
                                      table.constant, table.unpruned_ms]
    text = json.dumps([searcher.settings(), osp.abspath(searcher.checkpoint),
                       stat.st_size, stat.st_mtime_ns, lut], sort_keys=True,
                      default=str)
    return hashlib.sha1(text.encode()).hexdigest()


def load_state(path: str, print_: str, say: Callable) -> Optional[dict]:
    """The state at ``path`` if it has fingerprint ``print_``, else None
    (``say`` tells why it starts afresh)."""
    if not osp.isfile(path):
        return None
    try:
        with open(path, 'rb') as f:
            state = pickle.load(f)
    except Exception as e:  # a state we cannot read: start again
        say(f'ignoring unreadable state {path} ({e})')
        return None
    if state.get('fingerprint') != print_:
        say(f'{path} holds a search with other settings or another '
            'checkpoint: starting afresh')
        return None
    return state


def save_state(path: str, state: dict) -> None:
    """Write ``state`` atomically (rank 0)."""
    if rank() == 0:
        def write(tmp):
            with open(tmp, 'wb') as f:
                pickle.dump(state, f)
        atomic_write(path, write)
