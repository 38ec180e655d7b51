"""Canaries: one test per private torch / CPython API the package uses
(mmrazor_ext/compat/private_apis.py). Each checks the behaviour the package
relies on, so a torch that changed it fails here with a message naming the
API, before tracing, masks or DDP fail somewhere less clear."""
import inspect

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from mmrazor_ext.compat import private_apis as api


def _why(name):
    return (f'torch {torch.__version__} changed {name} (checked with '
            f'{api.TESTED_TORCH}): update mmrazor_ext/compat/private_apis.py')


def test_node_input_metadata():
    x = torch.randn(2, 6, requires_grad=True)
    node = (x.view(3, 4) * 2).grad_fn
    meta = api.input_metadata(node)
    assert len(meta) == 1, _why('Node._input_metadata (one per output)')
    assert (tuple(meta[0].shape), meta[0].dtype, meta[0].device.type) == \
        ((3, 4), torch.float32, 'cpu'), _why('Node._input_metadata fields')
    parts = torch.randn(4, 6, requires_grad=True).split(2)[0].grad_fn
    assert len(api.input_metadata(parts)) == 2, \
        _why('Node._input_metadata of a node with two outputs')


def test_node_saved_values():
    x = torch.randn(1, 2, 8, 8)
    w = torch.randn(3, 2, 3, 3, requires_grad=True)
    saved = dict(api.saved_values(F.conv2d(x, w, stride=2).grad_fn))
    assert saved.get('_saved_stride') == (2, 2), \
        _why(f'Node._saved_* (a conv saved {sorted(saved)})')


def test_ddp_forward_steps():
    for step, params in (('_pre_forward', ['self', 'inputs', 'kwargs']),
                         ('_post_forward', ['self', 'output'])):
        fn = getattr(DistributedDataParallel, step, None)
        assert callable(fn), _why(f'DistributedDataParallel.{step}')
        got = list(inspect.signature(fn).parameters)
        assert got == params, _why(
            f'DistributedDataParallel.{step} signature {got}')


def test_remove_hooks_without_handles():
    calls = []

    def pre(m, args):
        calls.append('pre')

    def post(m, args, out):
        calls.append('post')

    def drop(m, state, prefix, meta):
        calls.append('state')

    m = nn.Linear(2, 2)
    m.register_forward_pre_hook(pre)
    m.register_forward_hook(post, always_call=True)
    m.register_state_dict_post_hook(drop)
    m(torch.ones(1, 2)), m.state_dict()
    assert calls == ['pre', 'post', 'state']
    api.remove_hooks(m, (pre, post, drop))
    m(torch.ones(1, 2)), m.state_dict()
    assert calls == ['pre', 'post', 'state'], _why('nn.Module hook dicts')


def test_non_persistent_buffer_names():
    m = nn.BatchNorm1d(2)
    m.register_buffer('mask', torch.ones(2), persistent=False)
    assert api.non_persistent_buffer_names(m) == {'mask'}, \
        _why('nn.Module._non_persistent_buffers_set')


def test_mha_packs_qkv():
    packed, apart = nn.MultiheadAttention(8, 2), nn.MultiheadAttention(
        8, 2, kdim=4, vdim=4)
    assert api.mha_packs_qkv(packed) and packed.in_proj_weight is not None, \
        _why('nn.MultiheadAttention._qkv_same_embed_dim (packed)')
    assert not api.mha_packs_qkv(apart), \
        _why('nn.MultiheadAttention._qkv_same_embed_dim (kdim != embed_dim)')


def test_caller_frame():

    def inner():
        return api.caller_frame(1)

    def outer():
        return inner()

    assert outer().f_code.co_name == 'outer', 'sys._getframe changed'


def test_dispatch_mode_sees_aten_ops():
    seen = []

    class Record(api.dispatch_mode_class()):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen.append(str(func.overloadpacket))
            return func(*args, **(kwargs or {}))

    with Record():
        torch.mm(torch.ones(2, 3), torch.ones(3, 4))
    assert 'aten.mm' in seen, 'torch.utils._python_dispatch changed'


def test_a_changed_api_says_which():
    with pytest.raises(api.PrivateApiChanged,
                       match=r'Node\._input_metadata .*private_apis\.py'):
        api.input_metadata(object())
