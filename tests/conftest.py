"""One OpenMP thread for the whole suite, also when pytest is run directly
(``make test`` sets it too): on 2 busy cores a second thread spin-waits on
these small tensors and makes tests up to 10x slower."""
import os

os.environ.setdefault('OMP_NUM_THREADS', '1')
