#!/usr/bin/env bash
# What dist_train.sh, dist_test.sh and dist_search.sh share: run a tool in
# GPUS processes through torchrun (NCCL on GPUs, gloo on CPU), with the
# repository's .venv unless PYTHON is set. It says what it starts, and a
# failure ends in the tool's one-line message (tools/dist_launch.py).
# Usage: tools/dist_launch.sh GPUS TOOL.py [TOOL arguments, --launcher pytorch among them]
# Several nodes: set NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT on each.
set -e
GPUS=$1; TOOL=$2
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "$PYTHON" ]; then
  PYTHON=python; [ -x "$HERE/../.venv/bin/python" ] && PYTHON="$HERE/../.venv/bin/python"
fi

PYTHONPATH="$HERE/..":$PYTHONPATH \
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
exec "$PYTHON" "$HERE/dist_launch.py" \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="${MASTER_PORT:-${PORT:-29500}}" \
    --nproc_per_node="$GPUS" \
    "$TOOL" "$@"
