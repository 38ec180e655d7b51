"""HybridSearch end to end through the tools, in this process, on the
digits at 16x16: tools/search.py with GeatpySearcher writes the search
JSON beside the checkpoint, tools/train.py trains that subnet physically
pruned and reports it; bad inputs are one line before any work."""
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess

import pytest
import torch
from one_shot_setup import DATA, ROOT

from mmrazor_ext.searchers import search_json_path

_spec = importlib.util.spec_from_file_location(
    'tool_runner', osp.join(ROOT, 'tests', 'tools', 'tool_runner.py'))
tool_runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool_runner)
run = tool_runner.run_main

CONFIG = osp.join(ROOT, 'configs', 'hybrid_search',
                  'hybrid-search-sega_cifar-resnet20_1xb64_digits.py')
LATENCY_CONFIG = osp.join(
    ROOT, 'configs', 'hybrid_search',
    'hybrid-search-joint-latency_cifar-resnet20_1xb64_digits.py')


def tiny(folder, base=CONFIG, name='hybrid.py', **extra):
    cfg = dict(
        _base_=[base], data=dict(_delete_=True, **DATA),
        algorithm=dict(pruner=dict(input_shape=(3, 16, 16)),
                       recalibrate_bn=1),
        searcher=dict(population=4, generations=2, num_batches=1,
                      keep_ratios=[0.25, 0.5, 0.75, 1.0],
                      search_split=dict(num_images=48), recalibrate_bn=1,
                      batch_size=32),
        custom_hooks=[dict(type='PruningHook',
                           report='hybrid_search_report.json',
                           latency_time=0.05)],
        runner=dict(max_epochs=1), lr_config=dict(warmup=None),
        log_config=dict(interval=1), checkpoint_config=dict(interval=1))
    for key, value in extra.items():
        cfg[key] = dict(cfg.get(key, {}), **value) if isinstance(
            value, dict) and not isinstance(cfg.get(key), list) else value
    path = osp.join(str(folder), name)
    with open(path, 'w') as f:
        f.write(''.join(f'{k} = {v!r}\n' for k, v in cfg.items()))
    return path


@pytest.fixture(scope='module')
def flow(tmp_path_factory, pretrained):
    root = tmp_path_factory.mktemp('hybrid')
    cfg = tiny(root)
    log = run('search', [cfg, pretrained, '--work-dir', root / 'search'])
    path = search_json_path(pretrained, 'SEGA', 0.5)
    train_log = run('train', [cfg, '--work-dir', root / 'train', '--seed',
                              0, '--cfg-options',
                              f'algorithm.search_json={path}'])
    return dict(root=root, cfg=cfg, log=log, json=path, train_log=train_log)


@pytest.fixture(scope='module')
def latency_flow(tmp_path_factory, pretrained):
    """The joint latency config, tiny: search (its table measured into a
    cache beside the checkpoint), then the train stage."""
    root = tmp_path_factory.mktemp('hybrid_latency')
    ckpt = root / 'classifier.pth'
    shutil.copy(pretrained, ckpt)
    cfg = tiny(root, LATENCY_CONFIG, 'latency.py', searcher=dict(
        budget=dict(latency=0.4), keep_ratios=[0.5, 1.0],
        latency=dict(runs=3, validate=3, validate_time=0.02,
                     tries=1)),
        custom_hooks=[dict(type='HybridSearchHook', latency_time=0.05)])
    log = run('search', [cfg, ckpt, '--work-dir', root / 'search'])
    path = search_json_path(str(ckpt), 'NSGA2', 'latency0.4')
    train_log = run('train', [cfg, '--work-dir', root / 'train', '--seed',
                              0, '--cfg-options',
                              f'algorithm.search_json={path}'])
    return dict(root=root, log=log, json=path, train_log=train_log,
                ckpt=str(ckpt))


def test_latency_search_trains_a_smaller_shallower_model(latency_flow):
    data = json.load(open(latency_flow['json']))
    best = data['best']
    assert best['blocks_removed']  # 40% of the latency needs depth cuts
    assert set(best['latency_ms']) == {'predicted', 'measured'}
    assert osp.isfile(osp.splitext(latency_flow['ckpt'])[0] +
                      '_latency_table.json')  # the cache, beside
    work = latency_flow['root'] / 'train'
    report = json.load(open(work / 'hybrid_search_report.json'))
    assert report['removed_blocks'] == best['blocks_removed']
    assert report['depth']['exported'] < report['depth']['unpruned']
    assert report['blocks']['kept'] == report['blocks']['unpruned'] - len(
        best['blocks_removed'])
    assert report['params']['pruned'] == best['params']
    assert report['flops']['pruned'] == best['flops']
    check = report['latency_check']
    assert check['runtime'] == 'onnxruntime' and check['budget'] == 0.4
    assert check['search_predicted_ms'] == best['latency_ms']['predicted']
    assert 0 < check['measured_ratio'] < 1
    assert 'predicted by the search' in latency_flow['train_log']
    state = torch.load(work / 'latest.pth', weights_only=False)[
        'state_dict']
    assert bool(state['pruned_exported'])
    assert int(state['fusion_removed'].sum()) == len(best['blocks_removed'])


def test_search_writes_json_beside_the_checkpoint(flow, pretrained):
    data = json.load(open(flow['json']))
    assert osp.dirname(flow['json']) == osp.dirname(osp.abspath(pretrained))
    listed = json.load(open(flow['root'] / 'search' /
                            'search_results.json'))
    assert listed[0]['json'] == flow['json']
    assert data['best']['flops_ratio'] <= 0.5
    assert data['settings']['metric']['type'] == 'CDPMetric'
    assert data['split']['search_images'] == 48
    for png in ('search_progress.png', 'search_pareto.png'):
        assert (flow['root'] / 'search' / png).is_file()
    lines = [x for x in flow['log'].splitlines() if 'generation 2/2' in x]
    assert lines and 'cache hits' in lines[0] and 'ETA' in lines[0]


def test_train_stage_trains_the_searched_subnet_pruned(flow):
    data = json.load(open(flow['json']))
    work = flow['root'] / 'train'
    report = json.load(open(work / 'hybrid_search_report.json'))
    assert report['algorithm'] == 'HybridSearch'
    assert report['flops']['pruned'] == data['best']['flops']
    assert report['accuracy']['search_best']['top-1'] == \
        data['best']['search_top1']
    assert report['accuracy']['search_uniform']['top-1'] == \
        data['references']['uniform'][0]['search_top1']
    assert set(report['accuracy']['after_finetune']) == {'top-1', 'top-5'}
    state = torch.load(work / 'latest.pth', weights_only=False)[
        'state_dict']
    assert bool(state['pruned_exported'])  # trained physically pruned
    assert int(state['pruned_keep'].sum()) == sum(data['best']['kept'])
    subnet = json.load(open(work / 'subnet.json'))['subnet']
    assert subnet == data['best']['subnet']
    assert 'search split: searched subnet' in flow['train_log']
    # nothing is scored again: the log says what the step does
    assert 'applying the subnet searched in' in flow['train_log']
    assert 'scoring channels' not in flow['train_log']


def _one_line(excinfo, words):
    msg = str(excinfo.value)
    assert '\n' not in msg and words in msg, msg


# every bad setting is checked in tests/searchers; here: through the tool
@pytest.mark.parametrize('option, words', [
    ('searcher.budget.flops=0.001', 'cannot be met'),
    ('searcher.keep_ratios=[]', 'keep_ratios is empty'),
    ('searcher.search_split.num_images=5000',
     'search_split.num_images=5000 must be in [1, '),
])
def test_bad_search_settings(flow, pretrained, tmp_path, option, words):
    with pytest.raises(SystemExit) as e:
        run('search', [flow['cfg'], pretrained, '--work-dir',
                       tmp_path / 'w', '--cfg-options', option])
    _one_line(e, words)
    assert not (tmp_path / 'w').exists()


def test_checkpoint_of_another_model(flow, pretrained, tmp_path):
    state = torch.load(pretrained, weights_only=False)['state_dict']
    state['head.fc.weight'] = torch.zeros(7, 64)
    other = tmp_path / 'other.pth'
    torch.save({'state_dict': state}, other)
    with pytest.raises(SystemExit) as e:
        run('search', [flow['cfg'], other, '--work-dir', tmp_path / 'w'])
    _one_line(e, 'does not match')
    assert not (tmp_path / 'w').exists()


@pytest.mark.parametrize('kind, words', [
    ('corrupt', 'is corrupt'),
    ('other_model', 'from another model: channel space {name} has {n} '
     'channels in the JSON, {m} in this model'),
    ('kept_mismatch', 'best.kept says 40 channels of {name} ({m} in the '
     'space), best.subnet keeps '),
    ('missing', 'not found'), ('not_search', 'not a HybridSearch result')])
def test_bad_search_json_for_the_train_stage(flow, tmp_path, kind, words):
    path = tmp_path / 'search.json'
    data = json.load(open(flow['json']))
    if kind == 'corrupt':
        path.write_text(json.dumps(data)[:200])
    name = next(iter(data['model']['spaces']))
    m = data['model']['spaces'][name]
    words = words.format(name=name, n=m + 8, m=m)
    if kind == 'other_model':
        data['model']['spaces'][name] += 8
        path.write_text(json.dumps(data))
    elif kind == 'kept_mismatch':  # a hand-edited JSON
        data['best']['kept'][0] = 40
        path.write_text(json.dumps(data))
    elif kind == 'not_search':
        path.write_text(json.dumps({'subnet': {}}))
    with pytest.raises(SystemExit) as e:
        run('train', [flow['cfg'], '--work-dir', tmp_path / 'w',
                      '--cfg-options', f'algorithm.search_json={path}'])
    _one_line(e, words)
    assert not (tmp_path / 'w').exists()


def test_scripts_refuse_bad_arguments_before_any_work(tmp_path):
    script = osp.join(ROOT, 'scripts', 'hybrid_search',
                      'run_hybrid_cifar_resnet18.sh')
    out = subprocess.run(['bash', script, 'no_such_mode'], cwd=ROOT,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert 'test_search_geatpy_discrete_inference' in out.stderr
    assert 'search_train_geatpy_nsga2' in out.stderr
    train = osp.join(ROOT, 'scripts', 'hybrid_search',
                     'run_hybrid_in1k_resnet18_train.sh')
    out = subprocess.run(['bash', train, '0', str(tmp_path / 'none.json'),
                          '2'], cwd=ROOT, capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 2 and 'not found' in out.stderr
    # the ImageNet scripts say which variable sets the data root
    (tmp_path / 'search.json').write_text('{}')
    no_data = dict(os.environ, IMAGENET_ROOT=str(tmp_path / 'no_imagenet'))
    out = subprocess.run(['bash', train, '0', str(tmp_path / 'search.json'),
                          '1'], cwd=ROOT, capture_output=True, text=True,
                         timeout=30, env=no_data)
    assert out.returncode == 2 and out.stderr == (
        f'run_hybrid_in1k_resnet18_train.sh: no ImageNet at {tmp_path}/'
        'no_imagenet (train/ and val/ class folders): set IMAGENET_ROOT to '
        f'its folder (now {tmp_path}/no_imagenet)\n')
    out = subprocess.run(['bash', script,
                          'test_search_geatpy_discrete_inference'],
                         cwd=ROOT, capture_output=True, text=True,
                         timeout=30, env=no_data)
    assert out.returncode == 2 and 'IMAGENET_ROOT=' in out.stderr and \
        'tools/make_tiny_imagenet.py writes a tiny one' in out.stderr
