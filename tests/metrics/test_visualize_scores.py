"""tools/visualize_scores.py on the embedded digits data set."""
import importlib.util
import os
import subprocess
import json
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'tests/simple_pruning/CDP',
                  'cdp-score_cifar-resnet18_1xb64_digits.py')


def _tool():
    spec = importlib.util.spec_from_file_location(
        'visualize_scores', osp.join(ROOT, 'tools/visualize_scores.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cdp_plots_and_json(tmp_path):
    layers = ['backbone.layer1.0.bn1', 'backbone.layer4.1.bn2']
    _tool().main([CONFIG, 'CDPMetric', '--out-dir', str(tmp_path),
                  '--num-images', '20', '--batch-size', '10',
                  '--layers', *layers, '--device', 'cpu'])
    data = json.loads((tmp_path / 'scores.json').read_text())
    assert list(data['scores']) == layers
    assert [len(v) for v in data['scores'].values()] == [64, 512]
    assert len(data['cdp_tfidf'][layers[1]][0]) == 512
    for name in layers + ['all_layers']:
        assert (tmp_path / f'{name}.png').stat().st_size > 1000
    assert not list(tmp_path.glob('*.tmp*'))


def test_weight_metric_needs_no_data(tmp_path):
    _tool().main([CONFIG, 'BNScaleMetric', '--out-dir', str(tmp_path)])
    data = json.loads((tmp_path / 'scores.json').read_text())
    assert len(data['scores']) == 20 and data['cdp_tfidf'] == {}


@pytest.mark.parametrize('argv,match', [
    (['NoSuchMetric'], 'registered metrics'),
    (['CDPMetric', '--layers', 'backbone.nope'], "'backbone.nope' is not"),
])
def test_bad_input_exits_with_one_line(tmp_path, argv, match):
    with pytest.raises(SystemExit, match=match):
        _tool().main([CONFIG, *argv, '--out-dir', str(tmp_path),
                      '--num-images', '4'])


def test_example_script_runs(tmp_path, monkeypatch):
    """The shell example hands its settings to the tool. Its ``PYTHON`` is
    a stub that records the working directory and command line; the tool
    then runs in this process on exactly that command line, which spares a
    second interpreter importing the whole stack (about 10 s)."""
    script = osp.join(ROOT, 'tests/simple_pruning/CDP',
                      'visual_cdp_score_resnet18.sh')
    record, stub = tmp_path / 'argv', tmp_path / 'python'
    stub.write_text(f'#!/bin/sh\nprintf "%s\\0" "$PWD" "$@" > "{record}"\n')
    stub.chmod(0o755)
    out_dir = tmp_path / 'out'
    env = dict(os.environ, PYTHON=str(stub), OUT_DIR=str(out_dir),
               NUM_IMAGES='8')
    subprocess.run(['bash', script, '--batch-size', '8', '--device', 'cpu',
                    '--layers', 'backbone.bn1'], env=env, check=True,
                   capture_output=True)
    cwd, tool, *argv = record.read_text().split('\0')[:-1]
    assert osp.samefile(osp.join(cwd, tool),
                        osp.join(ROOT, 'tools/visualize_scores.py'))
    monkeypatch.chdir(cwd)
    _tool().main(argv)
    data = json.loads((out_dir / 'scores.json').read_text())
    assert data['metric'] == 'CDPMetric' and data['num_images'] == 8
    assert data['metric_options'] == {'num_classes': 10}
    assert (out_dir / 'backbone.bn1.png').exists()
