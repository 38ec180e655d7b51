"""The model zoo (``mmrazor_ext/testing``: torchvision and mmcls models, and
one model of every mmcls backbone family with a config): 50% uniform L1
pruning, masked forward, export equal to the masked model (relative
1e-4, and export's own check finds nothing to keep whole), FLOPs equal to
torch's FlopCounterMode unpruned (within 2%), params equal to those the
forward reads, FLOPs and params down, at most ``KEPT_PARAMS_MAX`` of the
parameters kept, and the masked count equal to the exported model's.

The default run takes ``QUICK``, one cheap model per mechanism the pruner
follows; ``MMRAZOR_EXT_ZOO=full`` runs every model (docs/pruner.md,
Coverage; ``tools/benchmarks/zoo_coverage.py`` prints the same checks as a
table)."""
import os
import warnings

import pytest
import torch
from mmrazor.models.builder import build_pruner

from mmrazor_ext.adapters import trace_forward as default_forward
from mmrazor_ext.testing.mmcls_families import (FAMILY_KEPT_PARAMS_MAX,
                                                FAMILY_OF_TYPE,
                                                config_backbone_types,
                                                pruner_zoo)
from mmrazor_ext.testing.model_zoo import (KEPT_PARAMS_MAX, PARTLY_PRUNED,
                                           XFAIL, calibrate_bn,
                                           reference_counts)
from mmrazor_ext.utils.tensor_compare import assert_close, output_tensors

ZOO = pruner_zoo()
KEPT_MAX = {**KEPT_PARAMS_MAX, **FAMILY_KEPT_PARAMS_MAX}
# one cheap model per mechanism: residual adds, concat, depthwise + SE,
# split + shuffle, grouped convs, norms over channels and layer scales,
# stored widths (VAN), tokens and attention (ViT, Swin v1 / v2, MaxViT,
# Twins, T2T, TNT, Conformer), spaces left whole with a reason
QUICK = ['mmcls_resnet18', 'mmcls_cifar_resnet20', 'tv_squeezenet1_1',
         'tv_mobilenet_v3_small', 'tv_shufflenet_v2_x1_0',
         'mmcls_shufflenetv1', 'mmcls_lenet5', 'mmcls_van',
         'mmcls_poolformer', 'mmcls_convmixer', 'mmcls_mlp_mixer',
         'mmcls_hornet', 'mmcls_twins_svt', 'mmcls_conformer', 'tv_vit',
         'mmcls_deit', 'tv_swin', 'tv_swin_v2', 'tv_maxvit', 'mmcls_swin',
         'mmcls_twins', 'mmcls_t2t_vit', 'mmcls_tnt']
NAMES = list(ZOO) if os.environ.get('MMRAZOR_EXT_ZOO') == 'full' else QUICK
# Masked FLOPs above the exported model's count (mmcls Twins: 136096 vs
# 127904 MACs on the zoo model, 6.4%; suspected: the global attention's
# q @ k^T, whose k comes through the spatial-reduction conv and its norm).
COUNT_OVER_EXPORTED = {'mmcls_twins'}


def test_every_mmcls_config_family_in_the_zoo():
    types = config_backbone_types()
    assert len(types) >= 40, sorted(types)  # the configs were found
    missing = sorted(t for t in types if FAMILY_OF_TYPE.get(t) not in ZOO)
    assert not missing, missing
    assert set(QUICK) <= set(ZOO)


def _params():
    for name in NAMES:
        marks = [pytest.mark.xfail(reason=XFAIL[name], strict=True)] \
            if name in XFAIL else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize('name', list(_params()))
def test_uniform_l1_prune_and_export(name):
    build, shape = ZOO[name]
    torch.manual_seed(0)  # the same weights whatever ran before
    model = calibrate_bn(build(), shape)
    pruner = build_pruner(dict(type='ChannelPruner', input_shape=shape,
                               divisor=1))  # exact counts
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        pruner.prepare_from_supernet(model)
    assert pruner.prunable_spaces, 'no prunable channel space'
    # no zoo model has a space the trial export had to keep whole
    assert not [sp.name for sp in pruner.channel_spaces
                if sp.reason.startswith('the exported model')]
    scores = pruner.get_metric_local('L1Metric')
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(1))
    full_flops, full_params = pruner.flops_params({})
    # every op counted as torch's own counter counts it (multiply-adds),
    # every parameter the forward reads, once
    ref_macs, used = reference_counts(model, shape)
    assert abs(full_flops - ref_macs) <= 0.02 * ref_macs, (full_flops,
                                                           ref_macs)
    assert full_params == used
    for ratio in (0.3, 0.5):
        subnet = pruner.sample_subnet_uniform(ratio, scores)
        for sp in pruner.prunable_spaces:
            n = len(subnet[sp.name])
            assert n == max(1, round(sp.num_channels * (1 - ratio)))
    pruner.set_subnet(subnet)
    small = pruner.export()
    assert pruner.kept_whole_on_export == {}
    model.eval()
    with torch.no_grad():
        y_masked = default_forward(model, x)
        y_small = default_forward(small, x)
    for y in output_tensors(y_masked):  # Conformer's head gives two
        assert torch.isfinite(y).all() and y.abs().max() > 0
    assert_close(y_small, y_masked, rtol=1e-4)
    flops, params = pruner.flops_params(subnet)
    assert flops < full_flops * (1 if name in PARTLY_PRUNED else 1 - 0.5 / 3)
    assert params < full_params
    n_small = sum(p.numel() for p in small.parameters())
    n_full = sum(p.numel() for p in model.parameters())
    assert n_small < n_full
    if name in KEPT_MAX:
        assert n_small / n_full <= KEPT_MAX[name], n_small / n_full
    # the masked count is the exported model's count
    again = build_pruner(dict(type='ChannelPruner', input_shape=shape,
                              export_check='off', divisor=1))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        again.prepare_from_supernet(small)
    counted = again.flops_params({})
    if name in COUNT_OVER_EXPORTED:  # known gap: fails once fixed
        assert counted[0] < flops, 'fixed: drop it from the list'
    else:
        assert (flops, params) == counted
