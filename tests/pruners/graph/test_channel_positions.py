"""The probe's shortcuts (a few channels checked first, the identity
confirmed by one comparison) give what the full ratio analysis gives, on
ops that keep, move, flatten, split or shuffle channels, with dead
channels and with channels along a middle dim."""
import pytest
import torch

from mmrazor_ext.pruners.graph import channel_positions as cp


def _grads(fn, x, dim):
    """``(g1, g2)`` of ``fn`` at ``x``: input gradients for output
    gradient 1 and index + 1 along output dim ``dim``."""
    x = x.detach().requires_grad_(True)
    y = fn(x)
    view = [1] * y.dim()
    view[dim] = y.shape[dim]
    idx = torch.arange(1, y.shape[dim] + 1, dtype=y.dtype).view(view)
    g1, = torch.autograd.grad(y, x, torch.ones_like(y), retain_graph=True)
    g2, = torch.autograd.grad(y, x, idx.expand_as(y).contiguous())
    return g1, g2, y.shape[dim]


def _shuffle(x):
    b, c, h, w = x.shape
    return x.view(b, 4, c // 4, h, w).transpose(1, 2).reshape(b, c, h, w)


CASES = {  # name -> (op, input shape, channel dim, probed output dim)
    'relu': (torch.relu, (2, 32, 8, 8), 1, 1),
    'dead relu': (lambda x: torch.relu(x - 100 * (x.new_ones(
        32).view(1, 32, 1, 1) * (torch.arange(32) % 5 == 0).view(
            1, 32, 1, 1))), (2, 32, 8, 8), 1, 1),
    'permute': (lambda x: x.permute(0, 2, 3, 1), (2, 32, 8, 8), 1, 3),
    'tokens to map': (lambda x: x.view(2, 7, 7, 48).permute(0, 3, 1, 2),
                      (2, 49, 48), 2, 1),
    'flatten': (lambda x: x.flatten(1), (2, 32, 8, 8), 1, 1),
    'split into heads': (lambda x: x.view(2, 49, 3, 4, 16), (2, 49, 192),
                         2, 1),
    'heads along qkv': (lambda x: x.view(2, 49, 3, 4, 16), (2, 49, 192),
                        2, 2),
    'shuffle': (_shuffle, (2, 32, 8, 8), 1, 1),
    'pool': (lambda x: torch.nn.functional.avg_pool2d(x, 2),
             (2, 32, 8, 8), 1, 1),
}


@pytest.mark.parametrize('name', list(CASES))
def test_shortcuts_give_the_full_analysis(name, monkeypatch):
    op, shape, dim, out_dim = CASES[name]
    torch.manual_seed(0)
    g1, g2, out_len = _grads(op, torch.randn(shape), out_dim)
    size = shape[dim]
    assert g1.numel() > 64 * size  # large enough for the shortcuts
    fast = cp.channel_positions(dim, size, g1, g2, out_len)
    monkeypatch.setattr(cp, '_stays', lambda *a: False)
    monkeypatch.setattr(cp, '_few_rows_fail', lambda *a: False)
    full = cp.channel_positions(dim, size, g1, g2, out_len)
    assert (fast is None) == (full is None)
    if full is not None:
        assert torch.equal(fast, full)
