"""WorkDirLock: one run per work dir, a crashed run's lock taken over."""
import json
import multiprocessing
import os
import signal
import socket

import pytest

from mmrazor_ext.core import WorkDirLock
from mmrazor_ext.utils import UserInputError


def hold(work_dir, ready):
    WorkDirLock(work_dir).acquire()
    ready.set()
    signal.pause()  # until killed: a crash, the lock never released


def test_another_process_holds_it_then_crashes(tmp_path):
    work = str(tmp_path / 'work')
    ctx = multiprocessing.get_context('fork')
    ready = ctx.Event()
    other = ctx.Process(target=hold, args=(work, ready))
    other.start()
    try:
        assert ready.wait(30)
        with pytest.raises(UserInputError) as refused:
            WorkDirLock(work).acquire()
        assert str(refused.value).startswith(
            f'work_dir {work} is in use by another run (PID {other.pid} on '
            f'host {socket.gethostname()}, started ')
    finally:
        other.kill()
        other.join()
    lock = WorkDirLock(work).acquire()  # the kernel dropped its flock
    assert lock.stale['pid'] == other.pid
    assert json.load(open(lock.path))['pid'] == os.getpid()
    lock.release()
    assert not os.path.exists(lock.path)


def test_folder_made_for_the_lock_is_removed_when_left_empty(tmp_path):
    empty, used = tmp_path / 'empty', tmp_path / 'used'
    with WorkDirLock(str(empty)):
        assert empty.is_dir()
    assert not empty.exists()
    with WorkDirLock(str(used)):
        (used / 'epoch_1.pth').write_bytes(b'weights')
    assert os.listdir(used) == ['epoch_1.pth']
