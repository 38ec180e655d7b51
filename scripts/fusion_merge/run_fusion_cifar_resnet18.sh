#!/usr/bin/env bash
# Fusion of CIFAR ResNet-18 on the embedded digits (16x16), by stage:
#   bash scripts/fusion_merge/run_fusion_cifar_resnet18.sh MODE [train.py args]
# MODE:
#   train             train the classifier (skipped when PRETRAINED exists)
#   test_fusion_init  fuse from the trained weights (blocks scored and
#                     removed, linearised chains merged, BN folded) and
#                     report the accuracy of that, before any fine-tuning
#   fusion            fuse, then fine-tune EPOCHS epochs
# test_fusion_init and fusion train the classifier first when the default
# PRETRAINED is missing (a few minutes on 2 CPU cores).
#   test              evaluate the fine-tuned fused checkpoint (tools/test.py)
#   all               train, test_fusion_init, fusion, test
# Environment: PRETRAINED, WORK_DIR, BLOCKS (kept, default 6), EPOCHS (2).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../.." && pwd)"
cd "${ROOT}"
if [[ -z "${PYTHON:-}" ]]; then
  PYTHON=python; [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
MODES=(train test_fusion_init fusion test all)
MODE="${1:-}"
if [[ -z "${MODE}" || ! " ${MODES[*]} " =~ " ${MODE} " ]]; then
  echo "run_fusion_cifar_resnet18.sh: unknown mode '${MODE}'; known modes: ${MODES[*]}" >&2
  exit 2
fi
shift
CLS_CONFIG=configs/fusion/cifar-resnet18_1xb64_digits.py
CONFIG="${CONFIG:-configs/fusion/fusion-blocks_cifar-resnet18_1xb64_digits.py}"
DEFAULT_PRETRAINED=work_dirs/cifar-resnet18_1xb64_digits/epoch_3.pth
PRETRAINED="${PRETRAINED:-${DEFAULT_PRETRAINED}}"
WORK_DIR="${WORK_DIR:-work_dirs/fusion_merge_cifar_resnet18}"
BLOCKS="${BLOCKS:-6}"
EPOCHS="${EPOCHS:-2}"
OPTIONS=(algorithm.pretrained="${PRETRAINED}" algorithm.budget.blocks="${BLOCKS}")

do_train() {
  if [[ -f "${PRETRAINED}" ]]; then
    echo "== ${PRETRAINED} exists: not training"; return
  fi
  echo "== training CIFAR ResNet-18 -> $(dirname "${PRETRAINED}")"
  "${PYTHON}" tools/train.py "${CLS_CONFIG}" \
      --work-dir "$(dirname "${PRETRAINED}")" --seed 0 "$@"
}
need_pretrained() {  # train it first when missing (the default path only)
  [[ -f "${PRETRAINED}" ]] && return
  if [[ "${PRETRAINED}" != "${DEFAULT_PRETRAINED}" ]]; then
    echo "run_fusion_cifar_resnet18.sh: PRETRAINED=${PRETRAINED} not found" >&2
    exit 2
  fi
  do_train
}
do_test_fusion_init() {
  need_pretrained
  echo "== fusing from the trained weights, no fine-tuning -> ${WORK_DIR}/init"
  "${PYTHON}" tools/train.py "${CONFIG}" --work-dir "${WORK_DIR}/init" \
      --seed 0 --cfg-options "${OPTIONS[@]}" runner.max_epochs=0 "$@"
}
do_fusion() {
  need_pretrained
  echo "== fusing and fine-tuning ${EPOCHS} epochs -> ${WORK_DIR}"
  "${PYTHON}" tools/train.py "${CONFIG}" --work-dir "${WORK_DIR}" --seed 0 \
      --cfg-options "${OPTIONS[@]}" runner.max_epochs="${EPOCHS}" "$@"
}
do_test() {
  echo "== evaluating ${WORK_DIR}/latest.pth"
  "${PYTHON}" tools/test.py "${CONFIG}" "${WORK_DIR}/latest.pth" \
      --cfg-options "${OPTIONS[@]}"
}
case "${MODE}" in
  all) do_train; do_test_fusion_init "$@"; do_fusion "$@"; do_test ;;
  *) "do_${MODE}" "$@" ;;
esac
