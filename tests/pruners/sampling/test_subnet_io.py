"""Subnet files: what is refused (with the reason), what loads with a
warning, and that what ``save_subnet`` writes loads back silently."""
import json
import warnings

import numpy as np
import pytest
import torch
from mmrazor.models.builder import build_pruner
from torch import nn

from mmrazor_ext.pruners.sampling.subnet_io import FORMAT, load_subnet


def net():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 4))


@pytest.fixture(scope='module')
def pruner():
    p = build_pruner(dict(type='ChannelPruner', input_shape=(3, 8, 8)))
    p.prepare_from_supernet(net())
    assert p.space_names() == ['0', '3', '6']
    return p


def write(tmp_path, data, name='subnet.json'):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def full(subnet, keep_whole=None):
    data = {'format': FORMAT, 'num_channels': {'0': 8, '3': 8, '6': 6},
            'subnet': subnet}
    if keep_whole is not None:
        data['keep_whole'] = keep_whole
    return data


def silently(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        return fn(*args)


REFUSED = {
    'fractional index': (full({'0': [0.5, 1], '3': [0], '6': [0]}),
                         "subnet space '0': indices must be integers, "
                         'got 0.5'),
    'integral float': (full({'0': [1.0], '3': [0], '6': [0]}),
                       'must be integers, got 1.0'),
    'boolean index': (full({'0': [True], '3': [0], '6': [0]}),
                      'must be integers, got true'),
    'duplicate index': (full({'0': [0, 2, 2], '3': [0], '6': [0]}),
                        "subnet space '0' lists index 2 more than once"),
    'duplicate in a bare dict': ({'0': [1, 1], '3': [0], '6': [0]},
                                 'lists index 1 more than once'),
    'not a list': (full({'0': 3, '3': [0], '6': [0]}),
                   'indices must be a list, got 3'),
    'unknown format': (dict(full({'0': [0]}),
                            format='mmrazor_ext.subnet/2'),
                       "unknown subnet file format 'mmrazor_ext.subnet/2' "
                       "(this version reads 'mmrazor_ext.subnet/1')"),
    'no format': ({'subnet': {'0': [0]}}, 'no "format" field'),
    'unknown field': (dict(full({'0': [0]}), keepwhole='all_others'),
                      "unknown field 'keepwhole'"),
    'bad keep_whole': (full({'0': [0]}, keep_whole='all'),
                       '"keep_whole" must be a list of space names'),
    'not an object': ([[0, 1]], 'not a subnet file: a JSON list'),
    'empty': (full({}), 'the subnet is empty: it would keep all channels '
              'of the 3 prunable spaces; write "keep_whole": "all_others"'),
    'empty bare dict': ({}, 'the subnet is empty'),
    'keep_whole of another model': (full({'0': [0]}, keep_whole=['9']),
                                    '"keep_whole" names \'9\', which is '
                                    'not a prunable space'),
    'pruned and kept whole': (full({'0': [0]}, keep_whole=['0', '3']),
                              "space '0' is both in \"subnet\" and in "
                              '"keep_whole"'),
}


@pytest.mark.parametrize('case', REFUSED)
def test_refused_with_the_reason(case, pruner, tmp_path):
    data, message = REFUSED[case]
    path = write(tmp_path, data)
    with pytest.raises(ValueError) as e:
        pruner.load_subnet(path)
    assert message in str(e.value)


def test_format_field_has_its_own_message(pruner, tmp_path):
    """Not 'subnet space 'format' is not a prunable space'."""
    path = write(tmp_path, {'format': 'subnet-v2', '0': [0]})
    with pytest.raises(ValueError, match="unknown subnet file format "
                       "'subnet-v2'"):
        pruner.load_subnet(path)


def test_spaces_left_out_load_with_a_warning_naming_them(pruner, tmp_path):
    path = write(tmp_path, full({'3': [0, 1]}))
    with pytest.warns(UserWarning) as record:
        subnet = pruner.load_subnet(path)
    assert subnet == {'3': [0, 1]}
    msg = str(record[0].message)
    assert f'subnet {path} leaves out 2 of 3 prunable spaces, kept whole: ' \
        '0, 6 (list them in "keep_whole"' in msg
    # named in keep_whole (in part: the other one is still warned about)
    path = write(tmp_path, full({'3': [0, 1]}, keep_whole=['0']))
    with pytest.warns(UserWarning, match='leaves out 1 of 3 prunable '
                      'spaces, kept whole: 6 '):
        pruner.load_subnet(path)


@pytest.mark.parametrize('keep_whole', [['0', '6'], 'all_others'])
def test_stated_spaces_load_silently(keep_whole, pruner, tmp_path):
    path = write(tmp_path, full({'3': [0, 1]}, keep_whole))
    assert silently(pruner.load_subnet, path) == {'3': [0, 1]}
    path = write(tmp_path, full({}, 'all_others'))
    assert silently(pruner.load_subnet, path) == {}


def test_what_save_subnet_writes_loads_back_silently(pruner, tmp_path):
    whole = pruner.sample_subnet_uniform(0.5)
    path = str(tmp_path / 'whole.json')
    pruner.save_subnet(whole, path)
    assert 'keep_whole' not in json.load(open(path))  # as written before
    assert silently(pruner.load_subnet, path) == whole
    # a file of the earlier version (every prunable space) reads the same
    old = write(tmp_path, {'format': FORMAT,
                           'num_channels': {'0': 8, '3': 8, '6': 6},
                           'subnet': whole}, 'old.json')
    assert silently(pruner.load_subnet, old) == whole
    # a subnet leaving spaces out, and an empty one, state it
    for subnet, stated in [({'6': [1, 4]}, ['0', '3']), ({}, ['0', '3', '6'])]:
        path = str(tmp_path / 'part.json')
        pruner.save_subnet(subnet, path)
        assert json.load(open(path))['keep_whole'] == stated
        assert silently(pruner.load_subnet, path) == subnet


def test_load_subnet_file_fields(tmp_path):
    data = load_subnet(write(tmp_path, full({'0': [3, 1]}, ['3'])))
    assert data.subnet == {'0': [3, 1]} and data.keep_whole == ['3']
    assert data.num_channels == {'0': 8, '3': 8, '6': 6}
    bare = load_subnet(write(tmp_path, {'0': [1], 'keep_whole': ['3']}))
    assert bare == ({'0': [1]}, {}, ['3'])


def test_set_subnet_takes_integer_indices_only(pruner):
    before = pruner.get_subnet()
    for bad in ([0.5, 1], [True], np.array([1.0, 2.0])):
        with pytest.raises(ValueError, match='integers'):
            pruner.set_subnet({'0': bad})
    assert pruner.get_subnet() == before
    # integer tensors and numpy integers are indices, other tensors masks
    pruner.set_subnet({'0': torch.tensor([1, 0]), '3': [np.int64(2)]})
    assert pruner.get_subnet()['0'] == [0, 1]
    assert pruner.get_subnet()['3'] == [2]
    pruner.set_subnet({'6': torch.tensor([1, 0, 1, 0, 0, 0]).bool()})
    assert pruner.get_subnet()['6'] == [0, 2]
    pruner.set_subnet({})  # in memory, {} keeps everything
    assert pruner.keep_vector().all()
