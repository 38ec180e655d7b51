#!/usr/bin/env bash
# The segmentation main job, from nothing: train a small FCN (ResNetV1c-18,
# 3 stages at 1/4 width, auxiliary head) on the embedded digits
# segmentation data (reused when work_dirs already holds it), prune it to
# 50% of its FLOPs by L1 norm (one global ranking), fine-tune, print the
# report (mIoU / aAcc by mmseg's evaluation, FLOPs, params, CPU latency).
# Everything stays in work_dirs/: the trained model in $TRAIN_DIR, the
# pruned run (checkpoints, subnet.json, pruned_model.pth,
# oneshot_report.json, log) in $PRUNE_DIR.
#   PYTHON=... TRAIN_DIR=... PRUNE_DIR=... scripts/main_job_seg.sh [train.py args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
if [[ -z "${PYTHON:-}" ]]; then
  PYTHON=python; [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
TRAIN_CFG=configs/fcn/fcn_r18s3-w16-d8_1xb32_digits-seg.py
PRUNE_CFG=configs/one_shot/one-shot-l1_fcn-r18s3-w16-d8_1xb32_digits-seg.py
TRAIN_DIR="${TRAIN_DIR:-work_dirs/fcn_r18s3-w16-d8_1xb32_digits-seg}"
PRUNE_DIR="${PRUNE_DIR:-work_dirs/one-shot-l1_fcn-r18s3-w16-d8_1xb32_digits-seg}"
EPOCHS=10
TRAINED="${TRAIN_DIR}/epoch_${EPOCHS}.pth"
start=${SECONDS}

if [[ -f "${TRAINED}" ]]; then
  echo "== 1/2 trained model found: ${TRAINED} (delete it to retrain)"
else
  RESUME=()  # an interrupted training run continues where it stopped
  [[ -f "${TRAIN_DIR}/latest.pth" ]] && \
    RESUME=(--resume-from "${TRAIN_DIR}/latest.pth")
  echo "== 1/2 training the FCN on digits segmentation -> ${TRAIN_DIR}"
  "${PYTHON}" tools/train.py "${TRAIN_CFG}" --work-dir "${TRAIN_DIR}" \
      --seed 0 --cfg-options runner.max_epochs="${EPOCHS}" \
      "${RESUME[@]+"${RESUME[@]}"}"
fi

echo "== 2/2 L1 pruning to 50% FLOPs + fine-tuning -> ${PRUNE_DIR}"
"${PYTHON}" tools/train.py "${PRUNE_CFG}" --work-dir "${PRUNE_DIR}" \
    --seed 0 --cfg-options algorithm.pretrained="${TRAINED}" "$@"

"${PYTHON}" - "${PRUNE_DIR}" <<'PY'
import json, os.path as osp, sys
from mmrazor_ext.engine import format_table
work = sys.argv[1]
report = json.load(open(osp.join(work, 'oneshot_report.json')))
print('\n== report (val mIoU / aAcc in %)\n' + format_table(report))
print('\nfiles in ' + work + ':')
for what, name in report['files'].items():
    if name:
        print(f'  {what:15s} {osp.join(work, name)}')
PY
echo "== segmentation main job done in $((SECONDS - start)) s"
