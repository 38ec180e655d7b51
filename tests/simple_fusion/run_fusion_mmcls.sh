#!/usr/bin/env bash
# Fusion example on the embedded digits: score the 9 residual blocks of a
# trained ResNet-20 with METRIC (a block metric), remove the least
# important down to BLOCKS blocks, fine-tune EPOCHS, fold BN, then evaluate
# the fused checkpoint with tools/test.py. Trains the model first when
# PRETRAINED is missing. A few minutes on 2 CPU cores.
#   METRIC=FeatureChangeMetric BLOCKS=5 bash <this script> [train.py args]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../.." && pwd)"
cd "${ROOT}"
if [[ -z "${PYTHON:-}" ]]; then
  PYTHON=python; [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
CONFIG="${CONFIG:-configs/fusion/fusion-blocks_cifar-resnet20_1xb64_digits.py}"
PRETRAINED="${PRETRAINED:-work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth}"
METRIC="${METRIC:-CKAMetric}"
BLOCKS="${BLOCKS:-6}"
EPOCHS="${EPOCHS:-3}"
WORK_DIR="${WORK_DIR:-work_dirs/run_fusion_mmcls_${METRIC}_${BLOCKS}}"

if [[ ! -f "${PRETRAINED}" ]]; then
  echo "== training the model to fuse -> $(dirname "${PRETRAINED}")"
  "${PYTHON}" tools/train.py configs/resnet/cifar-resnet20_1xb64_digits.py \
      --work-dir "$(dirname "${PRETRAINED}")" --seed 0
fi
OPTIONS=(algorithm.pretrained="${PRETRAINED}"
         algorithm.block_metric.type="${METRIC}"
         algorithm.budget.blocks="${BLOCKS}" runner.max_epochs="${EPOCHS}")
echo "== Fusion: ${METRIC} block scores, ${BLOCKS} blocks kept -> ${WORK_DIR}"
"${PYTHON}" tools/train.py "${CONFIG}" --work-dir "${WORK_DIR}" --seed 0 \
    --cfg-options "${OPTIONS[@]}" "$@"
echo "== evaluating the fused checkpoint"
"${PYTHON}" tools/test.py "${CONFIG}" "${WORK_DIR}/latest.pth" \
    --cfg-options algorithm.pretrained="${PRETRAINED}"
echo "== files: ${WORK_DIR}/{fusion_report.json,block_scores.json,block_scores.png,fused_model.pth,deploy_model.pth}"
