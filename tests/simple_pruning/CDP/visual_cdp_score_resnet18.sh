#!/usr/bin/env bash
# CDP channel scores of CifarResNet-18 on the embedded digits data set:
# per-layer PNGs (sorted scores + class x channel TF-IDF heat map) and
# scores.json. Without CHECKPOINT the freshly initialised model is scored.
#   CHECKPOINT=work_dirs/.../latest.pth NUM_IMAGES=512 bash <this script>
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../../.." && pwd)"
PYTHON="${PYTHON:-python}"
OUT_DIR="${OUT_DIR:-${ROOT}/work_dirs/visual_cdp_score_resnet18}"
NUM_IMAGES="${NUM_IMAGES:-256}"
ARGS=()
if [[ -n "${CHECKPOINT:-}" ]]; then ARGS+=(--checkpoint "${CHECKPOINT}"); fi

cd "${ROOT}"
"${PYTHON}" tools/visualize_scores.py \
    "${HERE}/cdp-score_cifar-resnet18_1xb64_digits.py" CDPMetric \
    --out-dir "${OUT_DIR}" --num-images "${NUM_IMAGES}" \
    --metric-options num_classes=10 "${ARGS[@]+"${ARGS[@]}"}" "$@"
