"""tools/deploy.py in this process, on an untrained ResNet-20 pruned by
hand (no training): a physically pruned checkpoint and a weights-only
model file exported, equal in ONNX Runtime, timed; bad input is one line
before anything is written."""
import json

import pytest
import torch

from mmrazor_ext.apis import build_model, load_config, load_pruned
from mmrazor_ext.deploy import save_model_file, structure_of
from tool_runner import ROOT, run_main

ONE_SHOT = (f'{ROOT}/configs/one_shot/'
            'one-shot-l1_cifar-resnet20_1xb64_digits.py')
FAST = ['--latency-time', '0.02']


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """The config, an algorithm checkpoint after the switch to the small
    model, its model file, a subnet of another model."""
    tmp = tmp_path_factory.mktemp('deploy_tool')
    cfg = tmp / 'one_shot.py'
    cfg.write_text(f"_base_ = [{ONE_SHOT!r}]\n"
                   "algorithm = dict(pretrained=None, evaluate=False, "
                   "recalibrate_bn=0)\n")
    torch.manual_seed(0)
    algo = build_model(load_config(str(cfg)))
    out = dict(cfg=str(cfg), tmp=tmp)
    out['unpruned'] = str(tmp / 'unpruned.pth')
    torch.save({'state_dict': algo.state_dict()}, out['unpruned'])
    algo.prune_step(0)
    algo.switch_to_pruned()
    out['exported'] = str(tmp / 'exported.pth')
    torch.save({'state_dict': algo.state_dict()}, out['exported'])
    out['model_file'] = str(tmp / 'pruned_model.pth')
    save_model_file(out['model_file'], algo.export_model(),
                    structure_of(algo), 'pruned', (3, 32, 32))
    out['other_subnet'] = str(tmp / 'other.json')
    other = build_model(load_config(str(cfg), {
        'model.backbone.depth': 32,
        'algorithm.architecture.model.backbone.depth': 32}))
    other.pruner.save_subnet(other.pruner.sample_subnet_uniform(0.5),
                             out['other_subnet'])
    return out


def deploy(argv, capsys):
    run_main('deploy', argv)
    return capsys.readouterr().out


def test_pruned_checkpoint_exported_checked_and_timed(files, capsys):
    out = files['tmp'] / 'out'
    printed = deploy([files['cfg'], files['exported'], '--out', out,
                      *FAST], capsys)
    info = json.loads((out / 'deploy.json').read_text())
    assert (out / 'model.onnx').stat().st_size > 10000
    assert info['onnx']['inputs'] == {'input': ['batch', 3, 32, 32]}
    assert info['onnx']['opset'] == 17 and info['bn_folded'] == 19 + 2
    check = info['check']
    assert check['images'] == 'val' and check['batch'] == 8
    ort = check['backends']['onnxruntime']
    assert ort['equal'] and ort['relative_diff'] <= 1e-4
    assert 'onnxruntime vs PyTorch on 8 val images' in printed
    rows = info['latency_ms']['backends']['onnxruntime']
    assert set(rows) == {'batch_1', 'batch_8'}
    assert rows['batch_1']['speedup'] > 0 and info['latency_ms'][
        'threads'] == 1
    assert 0.4 < info['flops']['kept'] < 0.5 and info['params']['kept'] < 1


def test_model_file_loads_weights_only_and_deploys(files, capsys):
    payload = torch.load(files['model_file'], weights_only=True)
    assert payload['kind'] == 'pruned' and 'state_dict' in payload
    model = load_pruned(files['cfg'], files['model_file'])
    algo = build_model(load_config(files['cfg']))
    algo.load_state_dict(torch.load(files['exported'],
                                    weights_only=True)['state_dict'])
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        ref = algo.architecture.model.eval()(x, return_loss=False)
        got = model(x, return_loss=False)
    assert torch.allclose(torch.tensor(ref), torch.tensor(got), atol=1e-6)
    out = files['tmp'] / 'from_file'
    deploy([files['cfg'], files['model_file'], '--out', out,
            '--backend', 'onnxruntime', '--shape', '2', '3', '32', '32',
            *FAST], capsys)
    info = json.loads((out / 'deploy.json').read_text())
    assert info['checkpoint_kind'] == 'model file'
    assert info['check']['backends']['onnxruntime']['equal']
    assert set(info['latency_ms']['backends']) == {'onnxruntime'}


def user_error(argv, files):
    """The one line ``tools/deploy.py`` exits with; nothing written."""
    out = files['tmp'] / 'bad'
    with pytest.raises(SystemExit) as exit_:
        run_main('deploy', [*argv, '--out', out])
    line = str(exit_.value.code)
    assert line.startswith('deploy.py: error: ') and '\n' not in line
    assert not out.exists()
    return line


def test_bad_input_is_one_line(files, monkeypatch):
    cfg, exported = files['cfg'], files['exported']
    from mmrazor_ext.deploy import runtimes
    monkeypatch.setitem(runtimes.BACKENDS, 'openvino', 'openvino-absent')
    assert user_error([cfg, exported, '--backend', 'openvino'], files) \
        .endswith('backend openvino is not installed: pip install '
                  'openvino-absent')
    assert 'the model cannot take images of this size' in user_error(
        [cfg, exported, '--shape', '1', '4', '32', '32'], files)
    line = user_error([cfg, files['unpruned'], '--subnet',
                       files['other_subnet']], files)
    assert f'subnet {files["other_subnet"]}: subnet space' in line
    # a checkpoint of another model (ResNet-20's, given a ResNet-32 config)
    other_cfg = files['tmp'] / 'deeper.py'
    other_cfg.write_text(f"_base_ = [{cfg!r}]\nmodel = dict(backbone=dict("
                         "depth=32))\nalgorithm = dict(architecture=dict("
                         "model=dict(backbone=dict(depth=32))))\n")
    assert 'does not fit' in user_error([other_cfg, exported], files)
    assert 'does not fit the config' in user_error(
        [other_cfg, files['model_file']], files)
