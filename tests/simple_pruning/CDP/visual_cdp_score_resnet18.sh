#!/usr/bin/env bash
# CDP channel scores of CIFAR ResNet-18 (3x3 stem, 8 BasicBlocks) trained
# on the embedded digits at 16x16: per-layer PNGs (sorted scores + class x
# channel TF-IDF heat map), all_layers.png (every layer's curve, coloured
# by depth, with a legend) and scores.json. Trains the model first when
# CHECKPOINT is missing (configs/fusion/cifar-resnet18_1xb64_digits.py, 3
# epochs, a few minutes on 2 CPU cores; the fusion example
# scripts/fusion_merge/run_fusion_cifar_resnet18.sh shares it).
#   CHECKPOINT=work_dirs/.../epoch_3.pth NUM_IMAGES=512 OUT_DIR=... \
#     bash <this script> [visualize_scores.py args]
# visual_cdp_score_resnet20.sh runs it for the main job's ResNet-20
# (TRAIN_CONFIG: the model trained when CHECKPOINT is missing;
# SCORE_CONFIG: the model and data scored).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../../.." && pwd)"
cd "${ROOT}"
if [[ -z "${PYTHON:-}" ]]; then
  PYTHON=python; [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
TRAIN_CONFIG="${TRAIN_CONFIG:-configs/fusion/cifar-resnet18_1xb64_digits.py}"
SCORE_CONFIG="${SCORE_CONFIG:-tests/simple_pruning/CDP/cdp-score_cifar-resnet18_1xb64_digits.py}"
CHECKPOINT="${CHECKPOINT:-work_dirs/cifar-resnet18_1xb64_digits/epoch_3.pth}"
OUT_DIR="${OUT_DIR:-work_dirs/visual_cdp_score_resnet18}"
NUM_IMAGES="${NUM_IMAGES:-256}"

if [[ ! -f "${CHECKPOINT}" ]]; then
  echo "== training the model to score -> $(dirname "${CHECKPOINT}")"
  "${PYTHON}" tools/train.py "${TRAIN_CONFIG}" \
      --work-dir "$(dirname "${CHECKPOINT}")" --seed 0
fi
echo "== CDP scores of ${CHECKPOINT} -> ${OUT_DIR}"
"${PYTHON}" tools/visualize_scores.py "${SCORE_CONFIG}" CDPMetric \
    --checkpoint "${CHECKPOINT}" --out-dir "${OUT_DIR}" \
    --num-images "${NUM_IMAGES}" --metric-options num_classes=10 "$@"
