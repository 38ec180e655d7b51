"""AutoSlim end to end with the repository's configs, in this process, on
the digits at 16x16: supernet training (tools/train.py), mmrazor's greedy
search (tools/search.py), retraining of the searched subnet; every
checkpoint loads strictly in tools/test.py."""
import importlib.util
import json
import os.path as osp

import mmcv
import pytest
import torch
from one_shot_setup import DATA, ROOT

_spec = importlib.util.spec_from_file_location(
    'tool_runner', osp.join(ROOT, 'tests', 'tools', 'tool_runner.py'))
tool_runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool_runner)

CONFIGS = osp.join(ROOT, 'configs', 'autoslim')
# ~180 training images (3 iterations), 36 validation images
TINY_DATA = dict(DATA, val=dict(DATA['val'], val_fraction=0.02),
                 test=dict(DATA['val'], val_fraction=0.02))
SUPERNET_FLOPS = 10_249_216  # ResNet-20 at 16x16, as AutoSlim counts


def tiny(folder, stage, **algorithm):
    """A config over ``autoslim-{stage}_cifar-resnet20_1xb64_digits.py``
    with the tiny data at 16x16 and one epoch; ``algorithm`` adds keys."""
    base = osp.join(CONFIGS,
                    f'autoslim-{stage}_cifar-resnet20_1xb64_digits.py')
    cfg = dict(
        _base_=[base], data=dict(_delete_=True, **TINY_DATA),
        algorithm=dict(pruner=dict(input_shape=(3, 16, 16)),
                       input_shape=(3, 16, 16), **algorithm),
        runner=dict(max_epochs=1), lr_config=dict(warmup_iters=2),
        log_config=dict(interval=1), checkpoint_config=dict(interval=1))
    path = osp.join(str(folder), f'{stage}.py')
    with open(path, 'w') as f:
        f.write(''.join(f'{k} = {v!r}\n' for k, v in cfg.items()))
    return path


@pytest.fixture(scope='module')
def flow(tmp_path_factory):
    """The three stages, run once; their work dirs."""
    root = tmp_path_factory.mktemp('autoslim')
    run = tool_runner.run_main
    dirs = {s: str(root / s) for s in ('supernet', 'search', 'subnet')}
    torch.manual_seed(0)
    run('train', [tiny(root, 'supernet'), '--work-dir', dirs['supernet'],
                  '--seed', 0])
    supernet_ckpt = osp.join(dirs['supernet'], 'latest.pth')
    # 2% below the supernet: one or two greedy steps; the budget (FLOPs
    # kept) becomes mmrazor's target_flops
    target = int(SUPERNET_FLOPS * 0.98)
    log = run('search', [tiny(root, 'search'), supernet_ckpt, '--work-dir',
                         dirs['search'], '--cfg-options',
                         'searcher.budget.flops=[0.98]'])
    results = mmcv.load(osp.join(dirs['search'], 'search_results.json'))
    channel_cfg = results[0]['channel_cfg']
    subnet_log = run('train', [
        tiny(root, 'subnet', channel_cfg=channel_cfg), '--work-dir',
        dirs['subnet'], '--seed', 0])
    return dict(dirs=dirs, root=root, target=target, results=results,
                search_log=log, subnet_log=subnet_log,
                channel_cfg=channel_cfg)


def _state(path):
    return torch.load(path, map_location='cpu', weights_only=False)[
        'state_dict']


def test_checkpoints_hold_no_masks_and_load_strictly(flow):
    dirs, root = flow['dirs'], flow['root']
    for stage in ('supernet', 'subnet'):
        ckpt = osp.join(dirs[stage], 'latest.pth')
        assert not [k for k in _state(ckpt) if k.endswith('_mask')]
        log = tool_runner.run_main('test', [
            osp.join(str(root), f'{stage}.py'), ckpt])
        assert 'accuracy_top-1' in log, log


def test_search_writes_channel_cfgs_under_the_target(flow):
    results, dirs = flow['results'], flow['dirs']
    assert len(results) == 1
    assert results[0]['flops'] <= flow['target']
    assert osp.dirname(flow['channel_cfg']) == dirs['search']
    cfg = mmcv.load(flow['channel_cfg'])
    narrowed = {k: v for k, v in cfg.items()
                if v['out_channels'] < v['raw_out_channels']}
    assert narrowed, 'the search removed no channel'
    assert 'Greedy find model' in flow['search_log']
    # only complete files in the work dir: no temporary left
    with open(osp.join(dirs['search'], 'search_results.json')) as f:
        assert json.load(f) == results


def test_retraining_trains_the_searched_widths(flow):
    cfg = mmcv.load(flow['channel_cfg'])
    state = _state(osp.join(flow['dirs']['subnet'], 'latest.pth'))
    checked = 0
    for layer, widths in cfg.items():
        w = state.get(f'architecture.model.{layer}.weight')
        if w is None or w.dim() != 4:
            continue
        assert w.shape[0] == widths['out_channels'], layer
        assert w.shape[1] == widths['in_channels'], layer
        checked += 1
    assert checked >= 19
    assert any(w['out_channels'] < w['raw_out_channels']
               for w in cfg.values())
    # one subnet trained (AutoSlim's retraining loss), not the supernet
    assert 'prune_model.loss' in flow['subnet_log']
    assert 'max_model.loss' not in flow['subnet_log']


@pytest.mark.parametrize('model', ['cifar-resnet20_1xb64_digits',
                                   'mobilenet-v2_8xb256_imagenet'])
def test_configs_describe_the_three_stages(model):
    """Cheap: the configs parse, and each stage sets what mmrazor reads
    (the ImageNet ones are built in docs only: no data here)."""
    from mmrazor_ext.apis import load_config
    cfg = {stage: load_config(osp.join(
        CONFIGS, f'autoslim-{stage}_{model}.py'))
        for stage in ('supernet', 'search', 'subnet')}
    for c in cfg.values():
        assert c.algorithm.type == 'AutoSlim'
        assert c.optimizer_config is None  # AutoSlim steps itself
        assert c.algorithm.pruner.type == 'AutoSlimPruner'
        assert c.algorithm.architecture.model.type == 'ImageClassifier'
    assert not cfg['supernet'].algorithm.retraining
    assert cfg['supernet'].algorithm.bn_training_mode
    assert cfg['search'].searcher.type == 'GreedySearcher'
    assert cfg['search'].algorithm.input_shape  # FLOPs for the search
    assert cfg['subnet'].algorithm.retraining
    assert cfg['subnet'].algorithm.channel_cfg
    assert not cfg['subnet'].algorithm.bn_training_mode


def test_bad_input_is_one_line(flow, tmp_path):
    """Before any work: a search config without a searcher, a checkpoint
    of another width, a retraining config whose channel_cfg is missing."""
    run, root, dirs = tool_runner.run_main, flow['root'], flow['dirs']
    supernet_ckpt = osp.join(dirs['supernet'], 'latest.pth')
    cases = [
        ('search', [osp.join(str(root), 'supernet.py'), supernet_ckpt],
         'has no searcher'),
        ('search', [osp.join(str(root), 'search.py'),
                    osp.join(dirs['subnet'], 'latest.pth')],
         'does not fit the model'),
        ('train', [tiny(tmp_path, 'subnet',
                        channel_cfg=str(tmp_path / 'none.yaml'))],
         'algorithm.channel_cfg'),
    ]
    for tool, argv, message in cases:
        work_dir = tmp_path / f'{tool}_out'
        with pytest.raises(SystemExit, match=message) as e:
            run(tool, argv + ['--work-dir', work_dir])
        assert '\n' not in str(e.value)
        assert not work_dir.exists()
