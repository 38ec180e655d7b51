#!/usr/bin/env bash
# Creates (or completes) the virtual environment the README's commands use.
# Usage: scripts/setup_env.sh [VENV_DIR]   (default: .venv)
# PYTHON picks the interpreter (default python3.11, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
python=${PYTHON:-$(command -v python3.11 || command -v python3)}

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
py="$venv/bin/python"
pip() { "$py" -m pip install --disable-pip-version-check -q "$@"; }

has() { "$py" - "$@" <<'PY' 2>/dev/null
import importlib, sys
mod, want = sys.argv[1], sys.argv[2]
m = importlib.import_module(mod)
sys.exit(0 if m.__version__.split('+')[0] == want else 1)
PY
}

has torch 2.14.1 && has torchvision 0.29.1 ||
  { echo "setup_env: installing torch 2.14.1 + torchvision 0.29.1"; \
    pip torch==2.14.1 torchvision==0.29.1; }

# mmcv: keep an installed mmcv / mmcv-full 1.5.0, otherwise build it without ops.
if ! has mmcv 1.5.0; then
  echo "setup_env: building mmcv 1.5.0 (MMCV_WITH_OPS=0)"
  pip "setuptools<70" wheel
  MMCV_WITH_OPS=0 pip --no-build-isolation mmcv==1.5.0
fi

grep -vE '^(#|$|torch|torchvision|mmcv)' requirements.txt > "$venv/reqs.txt"
pip -r "$venv/reqs.txt"
pip --no-build-isolation --no-deps -e .
"$py" -c "import mmrazor_ext, mmcv, mmcls, mmrazor, mmseg.models, geatpy, onnxruntime; \
print('setup_env: ok, mmcv', mmcv.__version__, 'mmcls', mmcls.__version__, \
'mmrazor', mmrazor.__version__, 'mmseg', mmseg.__version__)"
