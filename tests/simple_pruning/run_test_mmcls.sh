#!/usr/bin/env bash
# One-shot pruning example on the embedded digits: score the channels of a
# trained ResNet-20 with METRIC, remove FLOPS of its FLOPs (MODE: uniform,
# diff = one global ranking), fine-tune EPOCHS, then evaluate the pruned
# checkpoint with tools/test.py. Trains the model first when PRETRAINED is
# missing. A few minutes on 2 CPU cores.
#   METRIC=FPGMMetric FLOPS=0.75 MODE=uniform bash <this script> [train.py args]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../.." && pwd)"
cd "${ROOT}"
if [[ -z "${PYTHON:-}" ]]; then
  PYTHON=python; [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
fi
CONFIG="${CONFIG:-configs/one_shot/one-shot-l1_cifar-resnet20_1xb64_digits.py}"
PRETRAINED="${PRETRAINED:-work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth}"
METRIC="${METRIC:-L1Metric}"
FLOPS="${FLOPS:-0.5}"
MODE="${MODE:-diff}"
EPOCHS="${EPOCHS:-5}"
WORK_DIR="${WORK_DIR:-work_dirs/run_test_mmcls_${METRIC}_${MODE}_${FLOPS}}"

if [[ ! -f "${PRETRAINED}" ]]; then
  echo "== training the model to prune -> $(dirname "${PRETRAINED}")"
  "${PYTHON}" tools/train.py configs/resnet/cifar-resnet20_1xb64_digits.py \
      --work-dir "$(dirname "${PRETRAINED}")" --seed 0
fi
OPTIONS=(algorithm.pretrained="${PRETRAINED}" algorithm.metric="${METRIC}"
         algorithm.flops_target="${FLOPS}" algorithm.mode="${MODE}"
         runner.max_epochs="${EPOCHS}")
echo "== ${METRIC} ${MODE} pruning, ${FLOPS} of the FLOPs removed -> ${WORK_DIR}"
"${PYTHON}" tools/train.py "${CONFIG}" --work-dir "${WORK_DIR}" --seed 0 \
    --cfg-options "${OPTIONS[@]}" "$@"
echo "== evaluating the pruned checkpoint"
"${PYTHON}" tools/test.py "${CONFIG}" "${WORK_DIR}/latest.pth" \
    --subnet "${WORK_DIR}/subnet.json" \
    --cfg-options algorithm.pretrained="${PRETRAINED}"
