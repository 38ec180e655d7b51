#!/usr/bin/env bash
# One-shot pruning example on the embedded digits: score the channels of a
# trained ResNet-20 with METRIC, keep FLOPS_KEPT of its FLOPs (MODE:
# uniform, diff = one global ranking), fine-tune EPOCHS, evaluate the pruned
# checkpoint with tools/test.py. Trains the model first when PRETRAINED is
# missing. A few minutes on 2 CPU cores.
#   METRIC=FPGMMetric FLOPS_KEPT=0.25 MODE=uniform bash <this script> [args]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../.." && pwd)"
cd "${ROOT}"
if [[ -z "${PYTHON:-}" ]]; then
  PYTHON=python; [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
fi
# one OpenMP thread, as the other examples: on 2 busy cores a second one
# spin-waits (ResNet-20 training took 4-10 s per iteration at load 8)
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
CONFIG="${CONFIG:-configs/one_shot/one-shot-l1_cifar-resnet20_1xb64_digits.py}"
PRETRAINED="${PRETRAINED:-work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth}"
METRIC="${METRIC:-L1Metric}"
FLOPS_KEPT="${FLOPS_KEPT:-0.5}"  # fraction of the unpruned FLOPs kept
if [[ -n "${FLOPS:-}" ]]; then  # deprecated: the fraction removed
  FLOPS_KEPT=$(awk -v r="${FLOPS}" 'BEGIN { print 1 - r }')
  echo "warning: FLOPS=${FLOPS} (FLOPs removed) is deprecated and will be" \
       "removed in the next release; use FLOPS_KEPT=${FLOPS_KEPT} (FLOPs kept)" >&2
fi
MODE="${MODE:-diff}"
EPOCHS="${EPOCHS:-5}"
WORK_DIR="${WORK_DIR:-work_dirs/run_test_mmcls_${METRIC}_${MODE}_${FLOPS_KEPT}}"

if [[ ! -f "${PRETRAINED}" ]]; then
  echo "== training the model to prune -> $(dirname "${PRETRAINED}")"
  "${PYTHON}" tools/train.py configs/resnet/cifar-resnet20_1xb64_digits.py \
      --work-dir "$(dirname "${PRETRAINED}")" --seed 0
fi
OPTIONS=(algorithm.pretrained="${PRETRAINED}" algorithm.metric="${METRIC}"
         algorithm.budget.flops="${FLOPS_KEPT}" algorithm.mode="${MODE}"
         runner.max_epochs="${EPOCHS}")
echo "== ${METRIC} ${MODE} pruning, ${FLOPS_KEPT} of the FLOPs kept -> ${WORK_DIR}"
"${PYTHON}" tools/train.py "${CONFIG}" --work-dir "${WORK_DIR}" --seed 0 \
    --cfg-options "${OPTIONS[@]}" "$@"
echo "== evaluating the pruned checkpoint"
"${PYTHON}" tools/test.py "${CONFIG}" "${WORK_DIR}/latest.pth" \
    --subnet "${WORK_DIR}/subnet.json" \
    --cfg-options algorithm.pretrained="${PRETRAINED}"
