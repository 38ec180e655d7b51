#!/usr/bin/env bash
# CDP channel scores of the main job's trained ResNet-20 (CIFAR layout) on
# the embedded digits: per-layer PNGs (sorted scores + class x channel
# TF-IDF heat map), all_layers.png (every layer's curve, coloured by depth,
# with a legend) and scores.json. Trains the model first when CHECKPOINT is
# missing (scripts/main_job.sh's first stage, about 1.5 minutes on 2 CPU
# cores).
#   CHECKPOINT=work_dirs/.../epoch_10.pth NUM_IMAGES=512 OUT_DIR=... \
#     bash <this script> [visualize_scores.py args]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../../.." && pwd)"
cd "${ROOT}"
if [[ -z "${PYTHON:-}" ]]; then
  PYTHON=python; [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
fi
CONFIG=configs/resnet/cifar-resnet20_1xb64_digits.py
CHECKPOINT="${CHECKPOINT:-work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth}"
OUT_DIR="${OUT_DIR:-work_dirs/visual_cdp_score_resnet20}"
NUM_IMAGES="${NUM_IMAGES:-256}"

if [[ ! -f "${CHECKPOINT}" ]]; then
  echo "== training the model to score -> $(dirname "${CHECKPOINT}")"
  "${PYTHON}" tools/train.py "${CONFIG}" \
      --work-dir "$(dirname "${CHECKPOINT}")" --seed 0
fi
echo "== CDP scores of ${CHECKPOINT} -> ${OUT_DIR}"
"${PYTHON}" tools/visualize_scores.py "${CONFIG}" CDPMetric \
    --checkpoint "${CHECKPOINT}" --out-dir "${OUT_DIR}" \
    --num-images "${NUM_IMAGES}" --metric-options num_classes=10 "$@"
