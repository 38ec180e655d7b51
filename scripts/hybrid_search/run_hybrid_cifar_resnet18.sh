#!/usr/bin/env bash
# HybridSearch from the project record: geatpy search of per-space keep
# ratios under a FLOPs budget (candidates scored by inference on a held-out
# split of the training set), optionally followed by training of the found
# subnet.
#   bash scripts/hybrid_search/run_hybrid_cifar_resnet18.sh MODE [search.py args]
# Modes (each is a config in configs/hybrid_search/):
#   test_search_geatpy_discrete_inference  SEGA search only (default budget 50%)
#   test_search_geatpy_de_inference        DE/rand/1/bin search only
#   test_search_geatpy_nsga2_inference     NSGA-II (top-1 vs FLOPs) search only
#   search_train_geatpy_discrete           SEGA search, then training
#   search_train_geatpy_nsga2              NSGA-II search, then training
# Data: the embedded digits with ResNet-20 (CIFAR layout) by default;
# CIFAR10_ROOT=<folder with cifar-10-batches-py> selects CIFAR-10 with
# CIFAR ResNet-18. CHECKPOINT=<trained classifier> is searched; without
# it the model is trained first (reused on the next run). The search JSON
# lands beside the checkpoint; WORK_DIR holds the search state, PNGs, log,
# and the trained subnet's files. Extra arguments go to tools/search.py,
# e.g. --cfg-options searcher.population=8 searcher.generations=4
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../.." && pwd)"
cd "${ROOT}"
if [[ -z "${PYTHON:-}" ]]; then
  PYTHON=python; [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

declare -A EA=([test_search_geatpy_discrete_inference]=sega
               [test_search_geatpy_de_inference]=de
               [test_search_geatpy_nsga2_inference]=nsga2
               [search_train_geatpy_discrete]=sega
               [search_train_geatpy_nsga2]=nsga2)
MODE="${1:-}"
if [[ -z "${MODE}" || -z "${EA[${MODE}]+x}" ]]; then
  echo "run_hybrid_cifar_resnet18.sh: unknown mode '${MODE}'; known modes:" >&2
  for m in test_search_geatpy_discrete_inference \
      test_search_geatpy_de_inference test_search_geatpy_nsga2_inference \
      search_train_geatpy_discrete search_train_geatpy_nsga2; do
    echo "  ${m}" >&2
  done
  exit 2
fi
shift

if [[ -n "${CIFAR10_ROOT:-}" ]]; then
  if [[ ! -d "${CIFAR10_ROOT}/cifar-10-batches-py" ]]; then
    echo "run_hybrid_cifar_resnet18.sh: CIFAR10_ROOT=${CIFAR10_ROOT} has no cifar-10-batches-py/" >&2
    exit 2
  fi
  NAME=cifar-resnet18_1xb128_cifar10
  TRAIN_CFG=configs/hybrid_search/${NAME}.py
  TRAIN_DIR="${TRAIN_DIR:-work_dirs/${NAME}}"
  DEFAULT_CKPT="${TRAIN_DIR}/epoch_100.pth"
else
  NAME=cifar-resnet20_1xb64_digits
  TRAIN_CFG=configs/resnet/${NAME}.py
  TRAIN_DIR="${TRAIN_DIR:-work_dirs/${NAME}}"
  DEFAULT_CKPT="${TRAIN_DIR}/epoch_10.pth"
fi
CONFIG=configs/hybrid_search/hybrid-search-${EA[${MODE}]}_${NAME}.py
CHECKPOINT="${CHECKPOINT:-${DEFAULT_CKPT}}"
WORK_DIR="${WORK_DIR:-work_dirs/hybrid_search_${MODE}_${NAME}}"
start=${SECONDS}

if [[ ! -f "${CHECKPOINT}" ]]; then
  if [[ "${CHECKPOINT}" != "${DEFAULT_CKPT}" ]]; then
    echo "run_hybrid_cifar_resnet18.sh: CHECKPOINT=${CHECKPOINT} not found" >&2
    exit 2
  fi
  RESUME=()  # an interrupted training run continues where it stopped
  [[ -f "${TRAIN_DIR}/latest.pth" ]] && \
    RESUME=(--resume-from "${TRAIN_DIR}/latest.pth")
  echo "== training the model to search -> ${TRAIN_DIR}"
  "${PYTHON}" tools/train.py "${TRAIN_CFG}" --work-dir "${TRAIN_DIR}" \
      --seed 0 "${RESUME[@]+"${RESUME[@]}"}"
fi

echo "== ${MODE}: search (${CONFIG}) of ${CHECKPOINT} -> ${WORK_DIR}"
"${PYTHON}" tools/search.py "${CONFIG}" "${CHECKPOINT}" \
    --work-dir "${WORK_DIR}" "$@"
JSON=$("${PYTHON}" -c "import json, sys; print(json.load(open(sys.argv[1]))[0]['json'])" \
    "${WORK_DIR}/search_results.json")
echo "== search JSON: ${JSON}"
echo "   plots: ${WORK_DIR}/search_progress.png ${WORK_DIR}/search_pareto.png"

if [[ "${MODE}" == search_train_* ]]; then
  echo "== training the searched subnet -> ${WORK_DIR}/train"
  "${PYTHON}" tools/train.py "${CONFIG}" --work-dir "${WORK_DIR}/train" \
      --seed 0 --cfg-options algorithm.search_json="${JSON}" \
      ${TRAIN_OPTIONS:-}
  echo "== report: ${WORK_DIR}/train/hybrid_search_report.json"
fi
echo "== done in $((SECONDS - start)) s"
