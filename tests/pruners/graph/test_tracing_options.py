"""Tracing honours the model (dtype, device) and takes a user forward_fn /
example input through the config (pruners/trace_input.py)."""
import pytest
import torch
from mmrazor.models.builder import build_pruner
from torch import nn

from mmrazor_ext.utils import UserInputError
from mmrazor_ext.utils.tensor_compare import assert_close

SHAPE = (3, 8, 8)


class Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        x = torch.relu(self.bn(self.c1(x)))
        return self.fc(torch.relu(self.c2(x)).mean((2, 3)))


class TwoInputs(Net):
    """A forward that needs a second input: a per-sample scale."""

    def forward(self, x, scale):
        return super().forward(x) * scale


def two_input_forward(model, x):
    """Import-path target for the ``forward_fn`` option."""
    return model(x, torch.ones(x.shape[0], 1, dtype=x.dtype))


def example_batch():
    """Import-path target for the ``example_input`` option."""
    return torch.randn(1, *SHAPE)


def _pruner(model, **kw):
    p = build_pruner(dict(type='ChannelPruner', input_shape=SHAPE, **kw))
    p.prepare_from_supernet(model)
    return p


def _summary(p):
    return [(s.name, s.num_channels, s.prunable) for s in p.channel_spaces]


@pytest.fixture(scope='module')
def reference():
    torch.manual_seed(0)
    model = Net().eval()
    return model, _pruner(model)


def test_float64_model(reference):
    model, ref = reference
    m64 = Net().double().eval()
    m64.load_state_dict(model.state_dict())
    p = _pruner(m64)
    assert _summary(p) == _summary(ref)
    assert p.flops_params({}) == ref.flops_params({})
    assert m64.c1.out_mask.dtype == torch.float64
    sub = p.sample_subnet_uniform(0.5, p.get_metric_local('L1Metric'))
    p.set_subnet(sub)
    small = p.export()
    x = torch.randn(2, *SHAPE, dtype=torch.float64)
    with torch.no_grad():
        assert_close(small(x), m64(x), rtol=1e-10)
    assert next(small.parameters()).dtype == torch.float64


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_low_precision_model_traced_in_float32_and_restored(reference,
                                                            dtype):
    model, ref = reference
    low = Net().eval()
    low.load_state_dict(model.state_dict())
    low.to(dtype)
    before = {k: v.clone() for k, v in low.state_dict().items()}
    p = _pruner(low)
    assert _summary(p) == _summary(ref)
    assert p.flops_params({}) == ref.flops_params({})
    after = low.state_dict()
    assert all(after[k].dtype == v.dtype and torch.equal(after[k], v)
               for k, v in before.items())
    assert low.c1.out_mask.dtype == dtype


def test_forward_fn_and_example_input_from_config(reference):
    _, ref = reference
    model = TwoInputs().eval()
    with pytest.raises(ValueError, match='more than one input|forward'):
        _pruner(model)
    here = __name__
    p = _pruner(model, forward_fn=f'{here}:two_input_forward',
                example_input=f'{here}:example_batch')
    assert _summary(p) == _summary(ref)
    # counts are per sample of the example batch (repeated to 2 samples)
    assert p.flops_params({}) == ref.flops_params({})
    p2 = _pruner(TwoInputs().eval(), forward_fn=two_input_forward,
                 example_input=torch.randn(3, *SHAPE))
    assert p2.flops_params({}) == ref.flops_params({})


@pytest.mark.parametrize('key,value,match', [
    ('forward_fn', 'no_such_module_xyz:f', 'forward_fn=.*cannot be imported'),
    ('forward_fn', f'{__name__}:SHAPE', 'forward_fn=.*not callable'),
    ('example_input', 3, 'example_input must be a callable'),
])
def test_bad_options_fail_before_tracing(key, value, match):
    with pytest.raises(UserInputError, match=match):
        build_pruner(dict(type='ChannelPruner', input_shape=SHAPE,
                          **{key: value}))


def test_example_input_must_be_a_float_batch():
    with pytest.raises(UserInputError, match='example_input must be'):
        _pruner(Net().eval(),
                example_input=torch.zeros(2, 3, dtype=torch.long))


def test_except_start_keys_on_last_space(reference):
    model, ref = reference
    last = ref.space_names()[-1]
    p = _pruner(model, except_start_keys=[last])
    assert last not in p.space_names()
    assert p.num_units == ref.num_units - ref.prunable_spaces[-1].num_channels
    sub = p.sample_subnet_uniform(0.5)
    p.set_subnet(sub)
    assert p.flops_params() == _pruner(p.export()).flops_params({})
    p.set_subnet({})


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
@pytest.mark.parametrize('dtype', [torch.float32, torch.float16])
def test_model_on_gpu(reference, dtype):
    model, ref = reference
    gpu = Net().eval()
    gpu.load_state_dict(model.state_dict())
    gpu.to('cuda', dtype)
    p = _pruner(gpu)
    assert _summary(p) == _summary(ref)
    assert p.flops_params({}) == ref.flops_params({})
    assert next(gpu.parameters()).dtype == dtype
    p.set_subnet(p.sample_subnet_uniform(0.5))
    x = torch.randn(2, *SHAPE, device='cuda', dtype=dtype)
    with torch.no_grad():
        assert_close(p.export()(x), gpu(x), rtol=1e-2)


def test_export_shares_no_tensor_with_the_model(reference):
    model, p = reference
    p.set_subnet(p.sample_subnet_uniform(0.5))
    small = p.export()
    p.set_subnet({})
    ptrs = {t.data_ptr() for t in model.state_dict().values()}
    assert not any(t.data_ptr() in ptrs for t in small.state_dict().values())
    before = model.c2.weight.clone()
    with torch.no_grad():
        for t in small.parameters():
            t.add_(1)
    assert torch.equal(model.c2.weight, before)
