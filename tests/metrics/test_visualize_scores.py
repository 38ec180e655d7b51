"""tools/visualize_scores.py on the embedded digits data set."""
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess

import pytest
import torch
from mmcls.models import build_classifier
from mmcv import Config

import mmrazor_ext  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    'tool_runner', osp.join(ROOT, 'tests', 'tools', 'tool_runner.py'))
_runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_runner)
stub_python, recorded = _runner.stub_python, _runner.recorded
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


SCRIPT = osp.join(ROOT, 'tests/simple_pruning/CDP',
                  'visual_cdp_score_resnet20.sh')
DIGITS20 = 'configs/resnet/cifar-resnet20_1xb64_digits.py'
TRAINED = 'work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth'


def test_example_script_runs(tmp_path, monkeypatch):
    """The shell example hands its settings to the tool. Its ``PYTHON`` is
    a stub that records the working directory and command line; the tool
    then runs in this process on exactly that command line, which spares a
    second interpreter importing the whole stack (about 10 s)."""
    stub, calls = tmp_path / 'python', tmp_path / 'calls'
    stub_python(stub, calls)
    ckpt = tmp_path / 'resnet20.pth'
    model = build_classifier(Config.fromfile(osp.join(ROOT, DIGITS20)).model)
    torch.save({'state_dict': model.state_dict()}, ckpt)
    out_dir = tmp_path / 'out'
    env = dict(os.environ, PYTHON=str(stub), OUT_DIR=str(out_dir),
               NUM_IMAGES='8', CHECKPOINT=str(ckpt))
    subprocess.run(['bash', SCRIPT, '--batch-size', '8', '--device', 'cpu',
                    '--layers', 'backbone.bn1'], env=env, check=True,
                   capture_output=True)
    [(cwd, tool, *argv)] = recorded(calls)  # the checkpoint is there
    assert osp.samefile(osp.join(cwd, tool),
                        osp.join(ROOT, 'tools/visualize_scores.py'))
    monkeypatch.chdir(cwd)
    _tool().main(argv)
    data = json.loads((out_dir / 'scores.json').read_text())
    assert data['metric'] == 'CDPMetric' and data['num_images'] == 8
    assert data['metric_options'] == {'num_classes': 10}
    assert data['config'] == DIGITS20 and data['checkpoint'] == str(ckpt)
    assert (out_dir / 'backbone.bn1.png').exists()


def test_example_script_uses_the_venv_and_a_trained_model(tmp_path):
    """With no ``PYTHON`` it runs the repository's .venv (as the other
    scripts do), and it trains the main job's ResNet-20 first when no
    checkpoint is there, then scores that checkpoint."""
    root = tmp_path / 'repo'  # the scripts in a copy of the repository
    copy = root / osp.relpath(SCRIPT, ROOT)
    copy.parent.mkdir(parents=True)
    shutil.copy(SCRIPT, copy)
    shutil.copy(SCRIPT.replace('resnet20', 'resnet18'), copy.parent)
    calls = tmp_path / 'calls'
    stub_python(root / '.venv/bin/python', calls)
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHON', 'CHECKPOINT', 'OUT_DIR', 'NUM_IMAGES')}
    subprocess.run(['bash', str(copy)], env=env, check=True,
                   capture_output=True, cwd=tmp_path)
    train, visualize = recorded(calls)
    assert train == [str(root), 'tools/train.py', DIGITS20, '--work-dir',
                     osp.dirname(TRAINED), '--seed', '0']
    assert visualize[1:4] == ['tools/visualize_scores.py', DIGITS20,
                              'CDPMetric']
    assert visualize[visualize.index('--checkpoint') + 1] == TRAINED

    # once trained, it only scores
    (root / TRAINED).parent.mkdir(parents=True)
    (root / TRAINED).write_bytes(b'weights')
    shutil.rmtree(calls)
    calls.mkdir()
    subprocess.run(['bash', str(copy)], env=env, check=True,
                   capture_output=True, cwd=tmp_path)
    [(_, tool, *_)] = recorded(calls)
    assert tool == 'tools/visualize_scores.py'


def test_all_layers_plot_has_a_legend_and_depth_colours():
    names = [f'backbone.layer{i // 7 + 1}.{i % 7}.bn1' for i in range(21)]
    scores = {n: torch.rand(16 + i) for i, n in enumerate(names)}
    fig = _tool().figure_all(scores, 'CDPMetric')
    [legend] = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == \
        [n[len('backbone.'):] for n in names]
    assert legend.get_title().get_text() == 'backbone.'
    lines = fig.axes[0].get_lines()
    colours = [tuple(line.get_color()) for line in lines]
    assert len(set(colours)) == 21  # one colour per depth
    assert len(fig.axes) == 2  # the plot and its depth colour bar
