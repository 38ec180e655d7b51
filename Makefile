# The README's two commands: `make demo` (main job) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test env train-digits

$(VENV)/.ready: scripts/setup_env.sh requirements.txt setup.py
	scripts/setup_env.sh $(VENV)
	touch $@

env: $(VENV)/.ready

# Main job on the embedded digits data set.
demo: env
	$(PY) tools/train.py configs/resnet/cifar-resnet20_1xb64_digits.py \
		--work-dir work_dirs/demo

test: env
	$(PY) -m pytest -q tests
