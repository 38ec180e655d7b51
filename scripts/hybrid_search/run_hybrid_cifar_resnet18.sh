#!/usr/bin/env bash
# HybridSearch from the project record: geatpy search of per-space keep
# ratios under a FLOPs budget (candidates scored by inference on a held-out
# split of the training set), optionally followed by training of the found
# subnet; the latency modes search widths and removed blocks together
# under a measured-latency budget (ONNX Runtime).
#   bash scripts/hybrid_search/run_hybrid_cifar_resnet18.sh MODE [search.py args]
# Modes (each is a config in configs/hybrid_search/):
#   test_search_geatpy_discrete_inference  SEGA search only (default budget 50%)
#   test_search_geatpy_de_inference        DE/rand/1/bin search only
#   test_search_geatpy_nsga2_inference     NSGA-II (top-1 vs FLOPs) search only
#   search_train_geatpy_discrete           SEGA search, then training
#   search_train_geatpy_nsga2              NSGA-II search, then training
#   test_search_geatpy_latency_inference   widths + blocks under 50% of the
#                                          ONNX Runtime latency, search only
#   search_train_geatpy_latency            the same, then training
# Data: the embedded digits with ResNet-20 (CIFAR layout) by default;
# CIFAR10_ROOT=<folder with cifar-10-batches-py> selects CIFAR-10 with
# CIFAR ResNet-18; IMAGENET_ROOT=<folder with train/<class>/, val/<class>/>
# selects ImageNet with ResNet-18 (SEGA modes only; any number of class
# folders; tools/make_tiny_imagenet.py writes a tiny one).
# DIGITS_MODEL=resnet56 or mobilenet-v2 selects that model on the digits
# (latency modes only; default resnet20).
# CHECKPOINT=<trained classifier> is searched; without it the model is
# trained first (reused on the next run). On ImageNet that is a stand-in,
# TRAIN_EPOCHS (1) epochs from random weights, searched at a small scale
# (a fifth of the training images held out, population 8, 3 generations)
# unless arguments are given. The search JSON lands beside the
# checkpoint; WORK_DIR holds the search state, PNGs, log, and the trained
# subnet's files. Extra arguments go to tools/search.py, e.g.
# --cfg-options searcher.population=8 searcher.generations=4
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
               [search_train_geatpy_nsga2]=nsga2
               [test_search_geatpy_latency_inference]=joint-latency
               [search_train_geatpy_latency]=joint-latency)
MODE="${1:-}"
if [[ -z "${MODE}" || -z "${EA[${MODE}]+x}" ]]; then
  echo "run_hybrid_cifar_resnet18.sh: unknown mode '${MODE}'; known modes:" >&2
  for m in test_search_geatpy_discrete_inference \
      test_search_geatpy_de_inference test_search_geatpy_nsga2_inference \
      search_train_geatpy_discrete search_train_geatpy_nsga2 \
      test_search_geatpy_latency_inference search_train_geatpy_latency; do
    echo "  ${m}" >&2
  done
  exit 2
fi
shift

TRAIN_OPTIONS_PRE=()
SEARCH_DEFAULTS=()
DIGITS_MODEL="${DIGITS_MODEL:-resnet20}"
if [[ "${EA[${MODE}]}" == joint-latency && ( -n "${IMAGENET_ROOT:-}" || -n "${CIFAR10_ROOT:-}" ) ]]; then
  echo "run_hybrid_cifar_resnet18.sh: the latency modes have configs for the digits only (unset IMAGENET_ROOT and CIFAR10_ROOT)" >&2
  exit 2
fi
if [[ "${DIGITS_MODEL}" != resnet20 && "${EA[${MODE}]}" != joint-latency ]]; then
  echo "run_hybrid_cifar_resnet18.sh: DIGITS_MODEL=${DIGITS_MODEL} is for the latency modes only" >&2
  exit 2
fi
if [[ -n "${IMAGENET_ROOT:-}" ]]; then
  if [[ ! -d "${IMAGENET_ROOT}/train" || ! -d "${IMAGENET_ROOT}/val" ]]; then
    echo "run_hybrid_cifar_resnet18.sh: IMAGENET_ROOT=${IMAGENET_ROOT} has no train/ and val/ class folders (tools/make_tiny_imagenet.py writes a tiny one)" >&2
    exit 2
  fi
  if [[ "${EA[${MODE}]}" != sega ]]; then
    echo "run_hybrid_cifar_resnet18.sh: on ImageNet only the SEGA modes have a config (test_search_geatpy_discrete_inference, search_train_geatpy_discrete)" >&2
    exit 2
  fi
  NAME=resnet18_8xb32_imagenet
  TRAIN_CFG=configs/resnet/${NAME}.py
  TRAIN_EPOCHS="${TRAIN_EPOCHS:-1}"
  TRAIN_DIR="${TRAIN_DIR:-work_dirs/${NAME}_standin}"
  DEFAULT_CKPT="${TRAIN_DIR}/epoch_${TRAIN_EPOCHS}.pth"
  TRAIN_OPTIONS_PRE=(--cfg-options runner.max_epochs="${TRAIN_EPOCHS}")
  if [[ -z "${CHECKPOINT:-}" && $# -eq 0 ]]; then  # the stand-in's scale
    IMAGES=$(find "${IMAGENET_ROOT}/train" -type f | wc -l)
    SEARCH_DEFAULTS=(--cfg-options
        searcher.search_split.num_images=$(( IMAGES / 5 > 0 ? IMAGES / 5 : 1 ))
        searcher.population=8 searcher.generations=3
        searcher.num_batches=2 searcher.recalibrate_bn=1
        searcher.batch_size=16 searcher.eval_batch_size=32)
  fi
elif [[ -n "${CIFAR10_ROOT:-}" ]]; then
  if [[ ! -d "${CIFAR10_ROOT}/cifar-10-batches-py" ]]; then
    echo "run_hybrid_cifar_resnet18.sh: CIFAR10_ROOT=${CIFAR10_ROOT} has no cifar-10-batches-py/" >&2
    exit 2
  fi
  NAME=cifar-resnet18_1xb128_cifar10
  TRAIN_CFG=configs/hybrid_search/${NAME}.py
  TRAIN_DIR="${TRAIN_DIR:-work_dirs/${NAME}}"
  DEFAULT_CKPT="${TRAIN_DIR}/epoch_100.pth"
else
  case "${DIGITS_MODEL}" in
    resnet20) NAME=cifar-resnet20_1xb64_digits; TRAIN_CFG=configs/resnet/${NAME}.py ;;
    resnet56) NAME=cifar-resnet56_1xb64_digits; TRAIN_CFG=configs/fusion/${NAME}.py ;;
    mobilenet-v2) NAME=mobilenet-v2_1xb64_digits; TRAIN_CFG=configs/fusion/${NAME}.py ;;
    *) echo "run_hybrid_cifar_resnet18.sh: DIGITS_MODEL=${DIGITS_MODEL} is not one of resnet20, resnet56, mobilenet-v2" >&2
       exit 2 ;;
  esac
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
  if [[ -n "${IMAGENET_ROOT:-}" ]]; then
    echo "== no CHECKPOINT: training a stand-in ResNet-18, ${TRAIN_EPOCHS} epoch(s) from random weights on ${IMAGENET_ROOT} -> ${TRAIN_DIR} (give CHECKPOINT=<trained ResNet-18> to search a real one)"
  else
    echo "== training the model to search -> ${TRAIN_DIR}"
  fi
  "${PYTHON}" tools/train.py "${TRAIN_CFG}" --work-dir "${TRAIN_DIR}" \
      --seed 0 "${RESUME[@]+"${RESUME[@]}"}" \
      "${TRAIN_OPTIONS_PRE[@]+"${TRAIN_OPTIONS_PRE[@]}"}"
fi

echo "== ${MODE}: search (${CONFIG}) of ${CHECKPOINT} -> ${WORK_DIR}"
"${PYTHON}" tools/search.py "${CONFIG}" "${CHECKPOINT}" \
    --work-dir "${WORK_DIR}" \
    "${SEARCH_DEFAULTS[@]+"${SEARCH_DEFAULTS[@]}"}" "$@"
JSON=$("${PYTHON}" -c "import json, sys; print(json.load(open(sys.argv[1]))[0]['json'])" \
    "${WORK_DIR}/search_results.json")
echo "== search JSON: ${JSON}"
echo "   plots: ${WORK_DIR}/search_progress.png ${WORK_DIR}/search_pareto.png"
if [[ "${EA[${MODE}]}" == joint-latency ]]; then
  echo "   latency table: $(dirname "${CHECKPOINT}")/$(basename "${CHECKPOINT}" .pth)_latency_table.json"
fi

if [[ "${MODE}" == search_train_* ]]; then
  echo "== training the searched subnet -> ${WORK_DIR}/train"
  "${PYTHON}" tools/train.py "${CONFIG}" --work-dir "${WORK_DIR}/train" \
      --seed 0 --cfg-options algorithm.search_json="${JSON}" \
      ${TRAIN_OPTIONS:-}
  echo "== report: ${WORK_DIR}/train/hybrid_search_report.json"
fi
echo "== done in $((SECONDS - start)) s"
