# The README's two commands: `make demo` (main job) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test env

$(VENV)/.ready: scripts/setup_env.sh requirements.txt setup.py
	scripts/setup_env.sh $(VENV)
	touch $@

env: $(VENV)/.ready

# Main job on the embedded digits data set: train ResNet-20, prune it to
# 50% of its FLOPs with CDP, fine-tune, print the report.
demo: env
	PYTHON=$(PY) scripts/main_job.sh

# One intra-op thread per test process: the tests run small tensors, where a
# second OpenMP thread mostly spin-waits (tests/pruners on 2 busy cores:
# 20 min -> 1.7 min). Instead the tests run in TEST_WORKERS processes
# (pytest-xdist; 2 for the 2 cores CI has, 0 runs them in this process).
TEST_WORKERS ?= 2
test: env
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) -m pytest -q tests \
	    -n $(TEST_WORKERS) --durations=15
