#!/usr/bin/env bash
# Multi-process evaluation through torchrun: NCCL on GPUs, gloo on CPU.
# Usage: tools/dist_test.sh GPUS CONFIG CHECKPOINT [tools/test.py arguments]
#   (mmcls's order, CONFIG CHECKPOINT GPUS, works too.)
# GPUS is the number of processes on this node (one per GPU; on CPU, any).
# Several nodes: set NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT on each.
set -e
if [[ $1 =~ ^[0-9]+$ ]]; then GPUS=$1; CONFIG=$2; CHECKPOINT=$3
else CONFIG=$1; CHECKPOINT=$2; GPUS=$3; fi
shift 3
HERE=$(cd "$(dirname "$0")" && pwd)
exec "$HERE/dist_launch.sh" "$GPUS" "$HERE/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
