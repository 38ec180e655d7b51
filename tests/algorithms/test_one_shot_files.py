"""What a OneShot run leaves in its work_dir: every file with the mode the
user's umask gives (checkpoints, subnet.json, the report, the exported
model, logs alike), and a report whose latency rows carry their spread."""
import json
import os
import stat

import pytest
from one_shot_setup import write_cfg


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield 0o640  # what open() gives a new file under it
    os.umask(old)


def test_files_follow_the_umask_and_latency_has_its_spread(
        tmp_path, pretrained, train_main, umask_027):
    cfg = write_cfg(tmp_path, pretrained)
    work = tmp_path / 'work'
    train_main([cfg, '--work-dir', str(work), '--seed', '0'])
    names = os.listdir(work)
    assert {'epoch_1.pth', 'subnet.json', 'oneshot_report.json',
            'pruned_model.pth'} <= set(names)
    modes = {name: oct(stat.S_IMODE(os.stat(work / name).st_mode))
             for name in names if not os.path.islink(work / name)}
    assert modes == {name: oct(umask_027) for name in modes}

    report = json.loads((work / 'oneshot_report.json').read_text())
    row = report['latency_ms']['batch_1']
    assert {'unpruned', 'exported', 'speedup'} <= set(row)
    for name in ('unpruned', 'exported'):
        q1, q3 = row['iqr'][name]
        assert 0 < q1 <= row[name] <= q3
    assert row['runs'] >= 5
    assert row['reliable'] == (row['caveat'] is None)
    load = report['latency_load']
    assert load['cpus'] >= 1 and load['load_average'] >= 0
    # ONNX Runtime beside eager, from the same interleaved runs
    assert report['latency_threads'] == 1
    assert report['onnx']['exported']['exporter'] == 'torchscript'
    ort = report['runtime_latency_ms']['onnxruntime']['batch_1']
    assert {'unpruned', 'exported', 'speedup'} <= set(ort)
    assert ort['runs'] >= 5 and ort['reliable'] == (ort['caveat'] is None)
    assert 'deploy' not in ort  # ONNX Runtime folds BN itself
