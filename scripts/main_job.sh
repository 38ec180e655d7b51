#!/usr/bin/env bash
# The main job, from nothing: train ResNet-20 on the embedded digits (reused
# when work_dirs already holds it), prune it to 50% of its FLOPs with CDP,
# fine-tune, print the report table. About 3 minutes on 2 CPU cores.
# Everything stays in work_dirs/: the trained model in $TRAIN_DIR, the
# pruned run (checkpoints, subnet.json, pruned_model.pth,
# oneshot_report.json, log) in $PRUNE_DIR.
#   PYTHON=... TRAIN_DIR=... PRUNE_DIR=... scripts/main_job.sh [train.py args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
if [[ -z "${PYTHON:-}" ]]; then
  PYTHON=python; [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
fi
TRAIN_CFG=configs/resnet/cifar-resnet20_1xb64_digits.py
PRUNE_CFG=configs/one_shot/one-shot-cdp_cifar-resnet20_1xb64_digits.py
TRAIN_DIR="${TRAIN_DIR:-work_dirs/cifar-resnet20_1xb64_digits}"
PRUNE_DIR="${PRUNE_DIR:-work_dirs/one-shot-cdp_cifar-resnet20_1xb64_digits}"
TRAINED="${TRAIN_DIR}/epoch_10.pth"
start=${SECONDS}

if [[ -f "${TRAINED}" ]]; then
  echo "== 1/2 trained model found: ${TRAINED} (delete it to retrain)"
else
  RESUME=()  # an interrupted training run continues where it stopped
  [[ -f "${TRAIN_DIR}/latest.pth" ]] && \
    RESUME=(--resume-from "${TRAIN_DIR}/latest.pth")
  echo "== 1/2 training ResNet-20 on digits -> ${TRAIN_DIR}"
  "${PYTHON}" tools/train.py "${TRAIN_CFG}" --work-dir "${TRAIN_DIR}" \
      --seed 0 "${RESUME[@]+"${RESUME[@]}"}"
fi

echo "== 2/2 CDP pruning to 50% FLOPs + fine-tuning -> ${PRUNE_DIR}"
"${PYTHON}" tools/train.py "${PRUNE_CFG}" --work-dir "${PRUNE_DIR}" \
    --seed 0 --cfg-options algorithm.pretrained="${TRAINED}" "$@"

"${PYTHON}" - "${PRUNE_DIR}" "${TRAIN_DIR}" <<'PY'
import glob, json, os.path as osp, statistics, sys
from mmrazor_ext.engine import format_table
work, train_dir = sys.argv[1:3]
report = json.load(open(osp.join(work, 'oneshot_report.json')))
print('\n== report (val accuracy in %)\n' + format_table(report))


def seconds_per_iter(folder):
    """Median compute time of a training iteration in the newest log of
    a run (mmcv's time minus data_time)."""
    logs = sorted(glob.glob(osp.join(folder, '*.log.json')))
    rows = [json.loads(line) for line in open(logs[-1])] if logs else []
    times = [r['time'] - r['data_time'] for r in rows
             if r.get('mode') == 'train' and 'data_time' in r]
    return statistics.median(times) if times else None


full, pruned = seconds_per_iter(train_dir), seconds_per_iter(work)
if full and pruned:
    print(f'\ntraining iteration, data loading excluded (median of the '
          f'logs): unpruned {full:.3f} s, pruned fine-tuning {pruned:.3f} s '
          f'(x{full / pruned:.2f})')
print('\nfiles in ' + work + ':')
for what, name in report['files'].items():
    print(f'  {what:15s} {osp.join(work, name)}')
PY
echo "== main job done in $((SECONDS - start)) s"
