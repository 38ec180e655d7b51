"""One run per work dir: a lock file that names its owner.

Two runs writing into one ``work_dir`` overwrite each other's checkpoints
and interleave their logs. A run holds ``WORK_DIR/.lock`` (an exclusive
``flock`` for as long as it runs, plus its PID, host and command in the
file); a second run is refused with one line naming them. The kernel
drops a ``flock`` when its process dies, so the lock of a crashed run is
recognised as stale and taken over.
"""
import fcntl
import json
import os
import os.path as osp
import socket
import sys
import time

from ..utils import UserInputError

LOCK_NAME = '.lock'


class WorkDirLock:
    """The lock of one work dir, held from :meth:`acquire` to
    :meth:`release` (also a context manager).

    Args:
        work_dir (str): The folder; created by :meth:`acquire` when
            missing, and removed again by :meth:`release` if the run left
            nothing else in it.

    Attributes:
        stale (dict | None): The record of a crashed run whose lock was
            taken over, for the caller to report.
    """

    def __init__(self, work_dir: str):
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_NAME)
        self.stale = None
        self._fd = None
        self._created_dir = False

    def acquire(self) -> 'WorkDirLock':
        if not osp.isdir(self.work_dir):
            os.makedirs(self.work_dir, exist_ok=True)
            self._created_dir = True
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                owner = _read(fd)
                os.close(fd)
                self._undo_dir()
                raise UserInputError(_refusal(self.work_dir, owner))
            # the file may have been released and removed meanwhile
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        old = _read(fd)
        if old and old.get('pid') is not None:
            self.stale = old  # its flock is gone: that run has ended
        record = dict(pid=os.getpid(), host=socket.gethostname(),
                      started=time.strftime('%Y-%m-%d %H:%M:%S'),
                      command=' '.join(sys.argv))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)  # drops the flock
        self._fd = None
        self._undo_dir()

    def _undo_dir(self):
        if self._created_dir:
            try:
                os.rmdir(self.work_dir)  # only if nothing else is there
            except OSError:
                pass
            self._created_dir = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _read(fd) -> dict:
    try:
        text = os.pread(fd, 4096, 0).decode()
        return json.loads(text) if text.strip() else {}
    except (OSError, ValueError):
        return {}


def _refusal(work_dir, owner) -> str:
    who = (f"PID {owner.get('pid')} on host {owner.get('host')}, started "
           f"{owner.get('started')}") if owner else 'another process'
    return (f'work_dir {work_dir} is in use by another run ({who}); wait '
            f'for it, or give this run another --work-dir')
