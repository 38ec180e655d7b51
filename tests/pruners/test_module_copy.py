import copy

import torch
from torch import nn

from mmrazor_ext.pruners.module_copy import copy_module


def _hook(module, args, out):
    return out * 2


class _Block(nn.Module):
    def __init__(self, shared):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.shared = shared  # the same module twice in the tree
        self.alias = [self.conv]  # a plain attribute naming a submodule
        self.cfg = dict(widths=[4, 8], name='b')

    def forward(self, x):
        return self.conv(x)


def _model():
    shared = nn.BatchNorm2d(4)
    m = nn.Sequential(_Block(shared), shared, nn.ReLU())
    m[0].conv.register_forward_hook(_hook)
    m[0].conv.register_buffer('mask', torch.ones(4), persistent=False)
    return m


def test_copy_module_matches_deepcopy_and_shares_tensors():
    m = _model()
    tensors = list(m.parameters()) + list(m.buffers())
    ours = copy_module(m, {id(t): t for t in tensors})
    ref = copy.deepcopy(m, {id(t): t for t in tensors})
    assert repr(ours) == repr(ref)
    assert ours[0].shared is ours[1] and ours[0].shared is not m[1]
    assert ours[0].alias[0] is ours[0].conv and ours[0].conv is not m[0].conv
    assert ours[0].cfg == m[0].cfg and ours[0].cfg is not m[0].cfg
    assert ours[0].cfg['widths'] is not m[0].cfg['widths']
    assert ours[0].conv.weight is m[0].conv.weight  # shared via the memo
    assert 'mask' in dict(ours[0].conv.named_buffers()) and \
        'mask' not in ours[0].conv.state_dict()  # still non-persistent
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(ours[0].conv(x), 2 * nn.functional.conv2d(
            x, m[0].conv.weight, m[0].conv.bias))  # the hook came along
        assert torch.equal(ours.eval()(x), ref.eval()(x))
    ours[0].conv.out_channels = 2  # the copy's attributes are its own
    assert m[0].conv.out_channels == 4


class _Custom(nn.Linear):
    def __deepcopy__(self, memo):
        out = nn.Linear(self.in_features, self.out_features)
        out.copied_by_itself = True
        return out


def test_copy_module_falls_back_to_deepcopy():
    m = nn.Sequential(_Custom(2, 2))
    out = copy_module(m, {})
    assert out[0].copied_by_itself
