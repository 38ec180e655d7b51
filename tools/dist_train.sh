#!/usr/bin/env bash
# Multi-process training through torchrun: NCCL on GPUs, gloo on CPU.
# Usage: tools/dist_train.sh GPUS CONFIG [tools/train.py arguments]
#   (mmcls's order, CONFIG GPUS, works too.)
# GPUS is the number of processes on this node (one per GPU; on CPU, any).
# Several nodes: set NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT on each.
set -e
if [[ $1 =~ ^[0-9]+$ ]]; then GPUS=$1; CONFIG=$2; else CONFIG=$1; GPUS=$2; fi
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
exec "$HERE/dist_launch.sh" "$GPUS" "$HERE/train.py" "$CONFIG" --launcher pytorch "$@"
