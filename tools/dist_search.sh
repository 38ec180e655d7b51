#!/usr/bin/env bash
# Multi-process search through torchrun (NCCL on GPUs, gloo on CPU); for
# HybridSearch every rank evaluates its share of each generation.
# Usage: tools/dist_search.sh GPUS CONFIG CHECKPOINT [tools/search.py arguments]
# Several nodes: set NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT on each.
set -e
GPUS=$1; CONFIG=$2; CHECKPOINT=$3
shift 3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${MASTER_PORT:-${PORT:-29500}}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "$PYTHON" ]; then
  PYTHON=python; [ -x "$HERE/../.venv/bin/python" ] && PYTHON="$HERE/../.venv/bin/python"
fi

PYTHONPATH="$HERE/..":$PYTHONPATH \
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --master_port="$PORT" \
    --nproc_per_node="$GPUS" \
    "$HERE/search.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
