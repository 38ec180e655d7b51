#!/usr/bin/env bash
# CDP channel scores of the main job's trained ResNet-20 (CIFAR layout) on
# the embedded digits: per-layer PNGs (sorted scores + class x channel
# TF-IDF heat map), all_layers.png (every layer's curve, coloured by depth,
# with a legend) and scores.json. Trains the model first when CHECKPOINT is
# missing (scripts/main_job.sh's first stage, about 1.5 minutes on 2 CPU
# cores). The work is visual_cdp_score_resnet18.sh's.
#   CHECKPOINT=work_dirs/.../epoch_10.pth NUM_IMAGES=512 OUT_DIR=... \
#     bash <this script> [visualize_scores.py args]
set -euo pipefail
CONFIG=configs/resnet/cifar-resnet20_1xb64_digits.py
TRAIN_CONFIG="${CONFIG}" SCORE_CONFIG="${CONFIG}" \
CHECKPOINT="${CHECKPOINT:-work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth}" \
OUT_DIR="${OUT_DIR:-work_dirs/visual_cdp_score_resnet20}" \
    exec bash "$(dirname "${BASH_SOURCE[0]}")/visual_cdp_score_resnet18.sh" "$@"
