"""Every model in the zoo: 30% / 50% uniform L1 pruning, masked forward,
export equal to the masked model, FLOPs down (and equal to torch's
FlopCounterMode unpruned, within 2%), and at 50% at most
``KEPT_PARAMS_MAX`` of the parameters kept."""
import warnings

import pytest
import torch
from mmrazor.models.builder import build_pruner

from mmrazor_ext.pruners.graph_tracer import default_forward
from mmrazor_ext.testing.model_zoo import (ALL_MODELS, KEPT_PARAMS_MAX,
                                           PARTLY_PRUNED, XFAIL, calibrate_bn,
                                           reference_counts)

# Masked FLOPs above the exported model's count (mmcls Twins: 136096 vs
# 127904 MACs on the zoo model, 6.4%; suspected: the global attention's
# q @ k^T, whose k comes through the spatial-reduction conv and its norm).
COUNT_OVER_EXPORTED = {'mmcls_twins'}


def _params():
    for name in ALL_MODELS:
        marks = [pytest.mark.xfail(reason=XFAIL[name], strict=True)] \
            if name in XFAIL else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize('name', list(_params()))
def test_uniform_l1_prune_and_export(name):
    build, shape = ALL_MODELS[name]
    torch.manual_seed(0)  # the same weights whatever ran before
    model = calibrate_bn(build(), shape)
    pruner = build_pruner(dict(type='ChannelPruner', input_shape=shape))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        pruner.prepare_from_supernet(model)
    assert pruner.prunable_spaces, 'no prunable channel space'
    scores = pruner.get_metric_local('L1Metric')
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(1))
    full_flops, full_params = pruner.flops_params({})
    # every op counted as torch's own counter counts it (multiply-adds),
    # every parameter the forward reads, once
    ref_macs, used = reference_counts(model, shape)
    assert abs(full_flops - ref_macs) <= 0.02 * ref_macs, (full_flops,
                                                           ref_macs)
    assert full_params == used
    with torch.no_grad():
        y_full = default_forward(model, x)
    assert y_full.abs().max() > 1e-3  # comparisons below are meaningful
    for ratio in (0.3, 0.5):
        subnet = pruner.sample_subnet_uniform(ratio, scores)
        for sp in pruner.prunable_spaces:
            n = len(subnet[sp.name])
            assert n == max(1, round(sp.num_channels * (1 - ratio)))
        pruner.set_subnet(subnet)
        model.eval()
        small = pruner.export()
        with torch.no_grad():
            y_masked = default_forward(model, x)
            y_small = default_forward(small, x)
        assert y_masked.shape == y_full.shape
        assert torch.isfinite(y_masked).all()
        err = (y_masked - y_small).abs().max().item()
        assert err <= 1e-4 * max(1.0, y_masked.abs().max().item()), err
        flops, params = pruner.flops_params(subnet)
        assert flops < full_flops * (
            1 if name in PARTLY_PRUNED else 1 - ratio / 3)
        assert params < full_params
        n_small = sum(p.numel() for p in small.parameters())
        n_full = sum(p.numel() for p in model.parameters())
        assert n_small < n_full
        if ratio == 0.5 and name in KEPT_PARAMS_MAX:
            assert n_small / n_full <= KEPT_PARAMS_MAX[name], n_small / n_full
        if ratio == 0.5:  # the masked count is the exported model's count
            again = build_pruner(dict(type='ChannelPruner', input_shape=shape))
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                again.prepare_from_supernet(small)
            counted = again.flops_params({})
            if name in COUNT_OVER_EXPORTED:  # known gap: fails once fixed
                assert counted[0] < flops, 'fixed: drop it from the list'
            else:
                assert (flops, params) == counted
