#!/usr/bin/env bash
# The one-shot pruning example (run_test_mmcls.sh) through several
# processes with tools/dist_train.sh: one per GPU listed in
# CUDA_VISIBLE_DEVICES (NCCL), or GPUS processes on CPU (gloo, default 2).
# Metric statistics are all-reduced, every rank applies rank 0's subnet and
# rank 0 writes the report.
#   CUDA_VISIBLE_DEVICES=0,1 bash <this script>      GPUS=4 bash <this script>
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../.." && pwd)"
cd "${ROOT}"
if [[ -z "${PYTHON:-}" ]]; then
  PYTHON=python; [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
fi
export PYTHON
if [[ -z "${GPUS:-}" ]]; then
  if [[ -n "${CUDA_VISIBLE_DEVICES:-}" ]]; then
    IFS=',' read -ra DEVICES <<< "${CUDA_VISIBLE_DEVICES}"
    GPUS=${#DEVICES[@]}
  else
    GPUS=$("${PYTHON}" -c 'import torch; print(torch.cuda.device_count())' \
           2>/dev/null || echo 0)
    [[ "${GPUS}" -gt 0 ]] || GPUS=2
  fi
fi
CONFIG="${CONFIG:-configs/one_shot/one-shot-cdp_cifar-resnet20_1xb64_digits.py}"
PRETRAINED="${PRETRAINED:-work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth}"
FLOPS_KEPT="${FLOPS_KEPT:-0.5}"  # fraction of the unpruned FLOPs kept
if [[ -n "${FLOPS:-}" ]]; then  # deprecated: the fraction removed
  FLOPS_KEPT=$(awk -v r="${FLOPS}" 'BEGIN { print 1 - r }')
  echo "warning: FLOPS=${FLOPS} (FLOPs removed) is deprecated and will be" \
       "removed in the next release; use FLOPS_KEPT=${FLOPS_KEPT} (FLOPs kept)" >&2
fi
MODE="${MODE:-diff}"
EPOCHS="${EPOCHS:-5}"
WORK_DIR="${WORK_DIR:-work_dirs/dist_train_one_shot_${GPUS}procs}"

if [[ ! -f "${PRETRAINED}" ]]; then
  echo "== training the model to prune -> $(dirname "${PRETRAINED}")"
  "${PYTHON}" tools/train.py configs/resnet/cifar-resnet20_1xb64_digits.py \
      --work-dir "$(dirname "${PRETRAINED}")" --seed 0
fi
PROCS="${GPUS} processes"; [[ "${GPUS}" == 1 ]] && PROCS="1 process"
echo "== one-shot pruning in ${PROCS} -> ${WORK_DIR}"
bash tools/dist_train.sh "${GPUS}" "${CONFIG}" --work-dir "${WORK_DIR}" \
    --seed 0 --cfg-options algorithm.pretrained="${PRETRAINED}" \
    algorithm.budget.flops="${FLOPS_KEPT}" algorithm.mode="${MODE}" \
    runner.max_epochs="${EPOCHS}" "$@"
