"""One OpenMP thread for the whole suite, also when pytest is run directly
(``make test`` sets it too): on 2 busy cores a second thread spin-waits on
these small tensors and makes tests up to 10x slower."""
import os
import socket

import pytest

os.environ.setdefault('OMP_NUM_THREADS', '1')


@pytest.fixture
def free_port() -> int:
    """A TCP port nobody listens on now, so that several test runs on one
    machine (other checkouts, other sessions) do not meet on a fixed one."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]
