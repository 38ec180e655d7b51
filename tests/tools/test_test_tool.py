"""tools/test.py with --subnet and with checkpoints that do not fit, in
this process, on an untrained ResNet-20 pruned by hand (no training)."""
import json

import pytest
import torch
from mmcls.models import build_classifier

from mmrazor_ext.apis import build_model, load_config
from tool_runner import ROOT, run_main

ONE_SHOT = (f'{ROOT}/configs/one_shot/'
            'one-shot-l1_cifar-resnet20_1xb64_digits.py')


def write_config(path, extra=''):
    path.write_text(f"""_base_ = [{ONE_SHOT!r}]
algorithm = dict(pretrained=None, evaluate=False, recalibrate_bn=0,
                 pruner=dict(divisor=1){extra})
""")
    return str(path)


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """The config, checkpoints of one OneShot algorithm before pruning,
    after (masked) and after the switch to the small model, its subnet
    JSON and another subnet keeping ~1% of the FLOPs."""
    tmp = tmp_path_factory.mktemp('test_tool')
    cfg = write_config(tmp / 'one_shot.py')
    torch.manual_seed(0)
    algo = build_model(load_config(cfg))
    out = dict(cfg=cfg, tmp=tmp)

    def save(name, state):
        out[name] = str(tmp / f'{name}.pth')
        torch.save({'state_dict': state}, out[name])

    save('classifier', algo.architecture.model.state_dict())
    save('unpruned', algo.state_dict())
    algo.prune_step(0)
    pruner = algo.pruner
    out['own'] = str(tmp / 'own.json')
    pruner.save_subnet(pruner.get_subnet(), out['own'])
    save('masked', algo.state_dict())
    algo.switch_to_pruned()
    save('exported', algo.state_dict())
    out['tiny'] = str(tmp / 'tiny.json')
    pruner.save_subnet(pruner.sample_subnet_uniform(0.9), out['tiny'])
    return out


def user_error(argv):
    """The one line ``tools/test.py`` exits with."""
    with pytest.raises(SystemExit) as exit_:
        run_main('test', argv)
    line = str(exit_.value.code)
    assert line.startswith('test.py: error: ') and '\n' not in line
    return line


def predictions(files, ckpt, *args):
    path = files['tmp'] / 'out.json'
    log = run_main('test', [files['cfg'], files[ckpt], '--out', path, *args])
    assert 'accuracy_top-1' in log
    return json.load(open(path))['pred_score']


@pytest.mark.parametrize('ckpt', ['masked', 'exported'])
def test_subnet_other_than_the_checkpoints_is_refused(files, ckpt):
    line = user_error([files['cfg'], files[ckpt], '--subnet', files['tiny']])
    head, numbers = line.split(' (', 1)
    assert head == (f'test.py: error: --subnet {files["tiny"]} differs from '
                    f'the subnet checkpoint {files[ckpt]} holds')
    assert numbers.endswith("); drop --subnet to evaluate the "
                            "checkpoint's own")
    # it keeps N of M channels, x% of the FLOPs; the checkpoint K, y%
    given, held = numbers.split('); ')[0].split('; the checkpoint ')
    kept, total = given.split(' channels, ')[0].split('it keeps ')[1] \
        .split(' of ')
    assert int(kept) < int(held.split(', ')[0]) < int(total)
    assert float(given.split(', ')[1].split('%')[0]) < 5
    assert 45 < float(held.split(', ')[1].rstrip('%')) < 55


def test_subnet_the_checkpoint_holds_is_accepted(files):
    own = predictions(files, 'exported')
    assert predictions(files, 'exported', '--subnet', files['own']) == own
    assert predictions(files, 'masked', '--subnet', files['own']) == \
        pytest.approx(own, abs=1e-4)


def test_subnet_applies_to_a_checkpoint_before_pruning(files):
    """An algorithm's checkpoint keeping every channel holds no subnet:
    --subnet applies, as it does to a classifier's checkpoint."""
    masked = predictions(files, 'classifier', '--subnet', files['own'])
    assert predictions(files, 'unpruned', '--subnet', files['own']) == masked
    assert predictions(files, 'unpruned') != masked


def subnet_file(files, name, data):
    path = files['tmp'] / name
    path.write_text(json.dumps(data))
    return str(path)


def test_bad_subnet_files(files):
    own = json.load(open(files['own']))
    first = next(iter(own['subnet']))
    fraction = dict(own, subnet=dict(own['subnet'], **{first: [0.5, 1]}))
    twice = dict(own, subnet=dict(own['subnet'], **{first: [0, 1, 1]}))
    cases = [
        (fraction, f"subnet space '{first}': indices must be integers, got "
         '0.5'),
        (twice, f"subnet space '{first}' lists index 1 more than once"),
        ({}, 'the subnet is empty'),
        (dict(own, subnet={}), 'the subnet is empty'),
        (dict(own, format='mmrazor_ext.subnet/2'),
         "unknown subnet file format 'mmrazor_ext.subnet/2'"),
    ]
    for i, (data, message) in enumerate(cases):
        path = subnet_file(files, f'bad{i}.json', data)
        line = user_error([files['cfg'], files['classifier'],
                           '--subnet', path])
        assert line.startswith('test.py: error: OneShotAlgorithm: subnet '
                               f'{path}: ')
        assert message in line, line


def test_subnet_leaving_spaces_out_warns(files):
    own = json.load(open(files['own']))
    first = next(iter(own['subnet']))
    path = subnet_file(files, 'part.json',
                       dict(own, subnet={first: own['subnet'][first]}))
    n = len(own['subnet'])
    with pytest.warns(UserWarning, match=f'leaves out {n - 1} of {n} '
                      'prunable spaces, kept whole: '):
        predictions(files, 'classifier', '--subnet', path)


def test_checkpoint_of_another_architecture_names_the_keys(files):
    tmp = files['tmp']
    model = load_config(files['cfg']).algorithm.architecture.model
    deeper = dict(model, backbone=dict(model.backbone, depth=32))
    wider = dict(model, head=dict(model.head, num_classes=100))
    for name, cfg in [('deeper', deeper), ('wider', wider)]:
        torch.save({'state_dict': build_classifier(cfg).state_dict()},
                   tmp / f'{name}.pth')
    line = user_error([files['cfg'], tmp / 'deeper.pth'])
    assert line.startswith(f'test.py: error: checkpoint {tmp}/deeper.pth '
                           "does not fit the model (unexpected keys: "
                           "['backbone.layer1.3.conv1.weight', ")
    line = user_error([files['cfg'], tmp / 'wider.pth'])
    assert line.endswith('does not fit the model (shapes differ: '
                         'head.fc.weight (100, 64) vs (10, 64) and 1 more)')
    # a pruned ResNet-20 algorithm's checkpoint on a ResNet-32 algorithm
    cfg32 = write_config(tmp / 'one_shot32.py', extra=', architecture=dict('
                         'model=dict(backbone=dict(depth=32)))')
    line = user_error([cfg32, files['exported']])
    assert ' does not fit the model (shapes differ: pruned_keep (' in line
