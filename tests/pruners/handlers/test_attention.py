"""Multi-head attention pruned by per-head dim: q/k/v keep the same dims,
every head as many; widths updated on export; masked == exported (also
where the masked forward is recomputed by a hook). The transformer
families themselves run in test_coverage."""
import pytest
import torch
from mmrazor.models.builder import build_pruner
from torch import nn

from mmrazor_ext.pruners.masks import detach_masks

SHAPE = (3, 16, 16)


class TinyViT(nn.Module):
    """Patch embedding, one pre-norm attention block with
    ``nn.MultiheadAttention`` (sequence-first), a class-free mean head."""

    def __init__(self, batch_first):
        super().__init__()
        self.batch_first = batch_first
        self.embed = nn.Conv2d(3, 32, 4, stride=4)
        self.pos = nn.Parameter(torch.randn(1, 16, 32) * 0.1)
        self.ln = nn.LayerNorm(32)
        self.attn = nn.MultiheadAttention(32, 4, batch_first=batch_first)
        self.head = nn.Linear(32, 5)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2) + self.pos  # B, N, C
        if not self.batch_first:
            x = x.transpose(0, 1)
        h = self.ln(x)
        y, w = self.attn(h, h, h, need_weights=True)
        x = x + y
        if not self.batch_first:
            x = x.transpose(0, 1)
        return self.head(x.mean(1)) + w.mean() * 0


@pytest.mark.parametrize('batch_first', [True, False])
def test_multihead_attention(batch_first):
    torch.manual_seed(0)
    model = TinyViT(batch_first).eval()
    p = build_pruner(dict(type='ChannelPruner', input_shape=SHAPE, divisor=1))
    p.prepare_from_supernet(model)
    sp = {s.name: s for s in p.channel_spaces}['embed']
    assert sp.prunable, sp.reason
    assert sp.params == ['pos'] and 'attn' in sp.passthrough
    assert sp.num_channels == 8 and sp.channels_per_unit == 4  # per head
    sub = p.sample_subnet_uniform(0.5, p.get_metric_local('L1Metric'))
    p.set_subnet(sub)
    small = p.export()
    a = small.attn
    assert (a.embed_dim, a.num_heads, a.head_dim) == (16, 4, 4)
    assert tuple(a.in_proj_weight.shape) == (48, 16)
    assert tuple(a.out_proj.weight.shape) == (16, 16)
    x = torch.randn(2, *SHAPE)
    with torch.no_grad():
        y_masked, y_small = model(x), small(x)
        assert (y_masked - y_small).abs().max() <= 1e-5 * y_masked.abs(
        ).max()
        # the recompute is what makes them equal: without it the pruned
        # q/k dims (their biases) and the full-width scale leak in
        detach_masks(model)
        y_plain = model(x)
    assert (y_plain - y_small).abs().max() > 1e-3 * y_small.abs().max()
    assert p.flops_params()[1] == sum(q.numel() for q in small.parameters())


def test_unknown_attention_subclass_is_left_whole():
    class MyAttention(nn.MultiheadAttention):
        def forward(self, x):  # reads its width from the input
            q = x[..., :x.shape[-1]]
            return super().forward(q, q, q, need_weights=False)[0]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Conv2d(3, 16, 4, stride=4)
            self.attn = MyAttention(16, 2, batch_first=True)
            self.head = nn.Linear(16, 3)

        def forward(self, x):
            x = self.embed(x).flatten(2).transpose(1, 2)
            return self.head((x + self.attn(x)).mean(1))

    p = build_pruner(dict(type='ChannelPruner', input_shape=SHAPE, divisor=1))
    p.prepare_from_supernet(Net())
    sp = {s.name: s for s in p.channel_spaces}['embed']
    assert not sp.prunable and 'attention module' in sp.reason
