#!/usr/bin/env bash
# Train the subnet of a HybridSearch JSON on ImageNet-1k (ResNet-18,
# configs/hybrid_search/hybrid-search-sega_resnet18_8xb32_imagenet.py),
# physically pruned, in NUM_GPUS processes (tools/dist_train.sh): NCCL on
# the GPUs GPU_IDS, or gloo on CPU when no GPU is visible.
#   bash scripts/hybrid_search/run_hybrid_in1k_resnet18_train.sh GPU_IDS JSON_FILE NUM_GPUS [train.py args]
# e.g. ... 0,1,2,3 work_dirs/r18/epoch_100_hybrid-search_SEGA_0.5.json 4
# Data: IMAGENET_ROOT=<folder> (train/<class>/*.JPEG, val/<class>/*.JPEG;
# default data/imagenet; any number of class folders). The
# checkpoint pruned is the one the JSON was searched from (or
# CFG_OPTIONS="algorithm.pretrained=... runner.max_epochs=..."). CONFIG and
# WORK_DIR override; extra arguments go to tools/train.py.
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 GPU_IDS JSON_FILE NUM_GPUS [train.py args]" >&2
  exit 2
fi
GPU_IDS=$1; JSON_FILE=$2; NUM_GPUS=$3
shift 3
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../.." && pwd)"
cd "${ROOT}"
if [[ -z "${PYTHON:-}" ]]; then
  PYTHON=python; [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
fi
export PYTHON
if [[ ! -f "${JSON_FILE}" ]]; then
  echo "run_hybrid_in1k_resnet18_train.sh: JSON_FILE ${JSON_FILE} not found" >&2
  exit 2
fi
if ! [[ "${NUM_GPUS}" =~ ^[1-9][0-9]*$ ]]; then
  echo "run_hybrid_in1k_resnet18_train.sh: NUM_GPUS must be a positive integer, got '${NUM_GPUS}'" >&2
  exit 2
fi
DATA="${IMAGENET_ROOT:-data/imagenet}"
if [[ ! -d "${DATA}/train" || ! -d "${DATA}/val" ]]; then
  echo "run_hybrid_in1k_resnet18_train.sh: no ImageNet at ${DATA} (train/ and val/ class folders): set IMAGENET_ROOT to its folder${IMAGENET_ROOT:+ (now ${IMAGENET_ROOT})}" >&2
  exit 2
fi
CONFIG="${CONFIG:-configs/hybrid_search/hybrid-search-sega_resnet18_8xb32_imagenet.py}"
WORK_DIR="${WORK_DIR:-work_dirs/hybrid_in1k_resnet18_$(basename "${JSON_FILE}" .json)}"
export CUDA_VISIBLE_DEVICES="${GPU_IDS}"  # tools/dist_launch.py says which
echo "== training the subnet of ${JSON_FILE} (${CONFIG}) on ${DATA} -> ${WORK_DIR}"
bash tools/dist_train.sh "${NUM_GPUS}" "${CONFIG}" --work-dir "${WORK_DIR}" \
    --seed 0 --cfg-options algorithm.search_json="${JSON_FILE}" \
    ${CFG_OPTIONS:-} "$@"
echo "== report: ${WORK_DIR}/hybrid_search_report.json"
