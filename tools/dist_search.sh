#!/usr/bin/env bash
# Multi-process search through torchrun (NCCL on GPUs, gloo on CPU); for
# HybridSearch every rank evaluates its share of each generation.
# Usage: tools/dist_search.sh GPUS CONFIG CHECKPOINT [tools/search.py arguments]
# Several nodes: set NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT on each.
set -e
GPUS=$1; CONFIG=$2; CHECKPOINT=$3
shift 3
HERE=$(cd "$(dirname "$0")" && pwd)
exec "$HERE/dist_launch.sh" "$GPUS" "$HERE/search.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
