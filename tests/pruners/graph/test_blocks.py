"""Residual blocks, chains and FLOPs read from the one traced graph, on a
model whose blocks run matmuls (attention over positions): each block's
FLOPs are the counter's (torch's FlopCounterMode agrees), the model
without some blocks counts the difference, a stage of blocks is not a
block, and a block whose sum is a product is not one either."""
import pytest
import torch
from torch import nn

from mmrazor_ext.fusion import find_blocks, remove_blocks, trace_graph
from mmrazor_ext.pruners.flops import count_graph
from mmrazor_ext.testing.model_zoo import reference_macs
from mmrazor_ext.utils import UserInputError

SHAPE = (3, 8, 8)


class AttnBlock(nn.Module):
    """``relu(shortcut(x) + proj(attention(x)))`` with the attention over
    positions written as matmuls."""

    def __init__(self, cin, cout, product=False):
        super().__init__()
        self.qkv = nn.Conv2d(cin, 3 * cout, 1)
        self.proj = nn.Conv2d(cout, cout, 1)
        self.down = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.relu, self.product = nn.ReLU(), product

    def forward(self, x):
        b, _, h, w = x.shape
        q, k, v = self.qkv(x).flatten(2).chunk(3, 1)
        a = torch.softmax(q.transpose(1, 2) @ k, -1)
        y = self.proj((v @ a.transpose(1, 2)).view(b, -1, h, w))
        short = self.down(x) if self.down is not None else x
        return self.relu(short * y if self.product else short + y)


class Net(nn.Module):

    def __init__(self, product=False):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.stage = nn.Sequential(AttnBlock(8, 8), AttnBlock(8, 16),
                                   AttnBlock(16, 16, product))
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        return self.head(self.stage(self.stem(x)).mean((2, 3)))


def test_blocks_and_their_flops_include_matmuls():
    torch.manual_seed(0)
    model = Net().eval()
    graph = trace_graph(model, SHAPE)
    assert graph.flops() == reference_macs(model, SHAPE)
    assert count_graph(graph)[0] == graph.flops()
    blocks = find_blocks(graph)
    assert [(b.name, b.shortcut, b.act) for b in blocks] == [
        ('stage.0', None, 'stage.0.relu'),
        ('stage.1', 'stage.1.down', 'stage.1.relu'),
        ('stage.2', None, 'stage.2.relu')]
    x = torch.randn(2, *SHAPE)
    for b in blocks:  # each block's FLOPs: torch's count of it alone
        block = model.get_submodule(b.name)
        macs = reference_macs(block, b.in_shape,
                              forward=lambda m, t: m(t))
        assert b.flops == macs and b.flops > 2 * 8 * 64 * 64  # matmuls in
    small = remove_blocks(model, blocks, [b.name for b in blocks],
                          inplace=False)
    saved = sum(b.flops - b.shortcut_flops for b in blocks)
    assert trace_graph(small, SHAPE).flops() == graph.flops() - saved
    assert small(x).shape == model(x).shape


def test_a_product_is_not_a_sum():
    graph = trace_graph(Net(product=True).eval(), SHAPE)
    assert [b.name for b in find_blocks(graph)] == ['stage.0', 'stage.1']


def test_no_block():
    graph = trace_graph(nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU()),
                        SHAPE)
    with pytest.raises(UserInputError, match='no removable residual'):
        find_blocks(graph)
