"""Every registered weight metric scores the coupled parameters of a
channel: the producer's row, the norm's gamma and the consumer's input
column (the metric applied to the transposed weight)."""
import pytest
import torch
from mmrazor.models.builder import build_pruner
from torch import nn

import mmrazor_ext  # noqa: F401
from mmrazor_ext.metrics import build_metric
from mmrazor_ext.registry import METRICS

CONV_METRICS = sorted(n for n in METRICS.module_dict
                      if build_metric(n).input_kind == 'conv_weight')


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 5, 3, bias=False), nn.BatchNorm2d(5),
                         nn.ReLU(), nn.Conv2d(5, 2, 3)).eval()


@pytest.mark.parametrize('name', CONV_METRICS)
def test_coupled_sum_is_the_metric_over_every_member(name):
    model = _model()
    with torch.no_grad():
        model[1].weight.uniform_(0.5, 2)
    p = build_pruner(dict(type='ChannelPruner', input_shape=(3, 8, 8)))
    p.prepare_from_supernet(model)
    assert p.space_names() == ['0']
    metric = build_metric(name)
    parts = metric({'0': model[0].weight.detach(),
                    '1': model[1].weight.detach().view(-1, 1),
                    '3#in': model[3].weight.detach().transpose(0, 1)})
    expected = parts['0'] + parts['1'] + parts['3#in']
    got = p.get_metric_local(name, members='coupled', reduce='sum',
                             norm='none')['0']
    assert torch.allclose(got, expected, rtol=1e-5)
    producers = p.get_metric_local(name)['0']
    assert torch.allclose(producers, parts['0'] / parts['0'].abs().max())
