"""mmrazor's AutoSlim runs with AutoSlimPruner (a ChannelPruner) in place of
RatioPruner; configs naming ChannelPruner with widths keep working."""
import pytest
import torch
from mmrazor.models.builder import build_algorithm, build_pruner

import mmrazor_ext  # noqa: F401

WIDTHS = (2 / 12, 4 / 12, 6 / 12, 8 / 12, 10 / 12, 1.0)


def test_autoslim_train_step():
    model = dict(
        type='mmcls.ImageClassifier',
        backbone=dict(type='MobileNetV2', widen_factor=1.0),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=1280,
                  loss=dict(type='CrossEntropyLoss')))
    algo = build_algorithm(dict(
        type='AutoSlim',
        architecture=dict(type='MMClsArchitecture', model=model),
        pruner=dict(type='AutoSlimPruner', input_shape=(3, 32, 32),
                    keep_ratios=WIDTHS),
        retraining=False, bn_training_mode=True, input_shape=None))
    opt = torch.optim.SGD(algo.parameters(), lr=0.01)
    data = dict(img=torch.randn(2, 3, 32, 32), gt_label=torch.tensor([1, 2]))
    before = [p.detach().clone() for p in algo.parameters()]
    out = algo.train_step(data, opt)
    assert {'max_model.loss', 'min_model.loss',
            'prune_model1.loss'} <= set(out['log_vars'])
    assert torch.isfinite(out['loss'])
    assert any(not torch.equal(a, b)
               for a, b in zip(before, algo.parameters()))
    # min channel setting really narrows the spaces
    algo.pruner.set_min_channel()
    cfg = algo.pruner.export_subnet()
    assert any(c.get('out_channels', 0) < c.get('raw_out_channels', 0)
               for c in cfg.values())


def test_ratios_is_an_alias_of_keep_ratios():
    """mmrazor's ``RatioPruner`` key ``ratios`` still works: widths KEPT."""
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 12, 3),
                                torch.nn.BatchNorm2d(12), torch.nn.ReLU(),
                                torch.nn.Conv2d(12, 4, 1))
    widths = {}
    for key in ('keep_ratios', 'ratios'):
        pruner = build_pruner(dict(type='AutoSlimPruner',
                                   input_shape=(3, 8, 8),
                                   **{key: (1.0, 0.25)}))
        assert pruner.keep_ratios == [0.25, 1.0]
        pruner.prepare_from_supernet(model)
        pruner.set_min_channel()
        widths[key] = pruner.export_subnet()['0']['out_channels']
    assert widths == {'keep_ratios': 3, 'ratios': 3}  # 25% of 12 kept
    with pytest.raises(ValueError, match='not both'):
        build_pruner(dict(type='AutoSlimPruner', ratios=(0.5, 1.0),
                          keep_ratios=(0.5, 1.0)))


def test_channel_bins_cover_every_channel():
    """12 bins over 40 channels: all set keeps all 40; the last one off
    drops the last bin only (mmrazor's greedy search slims bin by bin)."""
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 40, 3),
                                torch.nn.BatchNorm2d(40), torch.nn.ReLU(),
                                torch.nn.Conv2d(40, 4, 1))
    pruner = build_pruner(dict(type='AutoSlimPruner', input_shape=(3, 8, 8),
                               keep_ratios=(0.5, 1.0)))
    pruner.prepare_from_supernet(model)
    bins = pruner.get_max_channel_bins(12)
    pruner.set_channel_bins(bins, 12)
    assert pruner.export_subnet()['0']['out_channels'] == 40
    bins['0'][-1] = 0
    pruner.set_channel_bins(bins, 12)
    assert pruner.get_subnet()['0'] == list(range(36))  # 40 * 11 // 12


def test_mask_buffers_stay_out_of_checkpoints():
    """mmcv's checkpoint writer saves non-persistent buffers; the masks'
    state-dict hook keeps them out, so a masked model's checkpoint loads
    strictly into a freshly prepared one; detaching removes the hook."""
    from mmcv.runner.checkpoint import get_state_dict

    from mmrazor_ext.pruners.masks import detach_masks

    def model():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3),
                                   torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                                   torch.nn.Conv2d(8, 4, 1))
    pruner = build_pruner(dict(type='AutoSlimPruner', input_shape=(3, 8, 8),
                               keep_ratios=(0.5, 1.0)))
    masked = model()
    pruner.prepare_from_supernet(masked)
    pruner.set_min_channel()
    state = get_state_dict(masked)
    assert set(state) == set(model().state_dict())
    fresh = model()
    build_pruner(dict(type='ChannelPruner', input_shape=(3, 8, 8))
                 ).prepare_from_supernet(fresh)
    fresh.load_state_dict(state, strict=True)
    detach_masks(masked)
    assert not any(m._state_dict_hooks for m in masked.modules())


def test_channel_pruner_with_widths_is_an_autoslim_pruner():
    """Configs written before AutoSlimPruner existed build one, with a
    warning naming the new type; a ChannelPruner has no AutoSlim part."""
    from mmrazor_ext.pruners import AutoSlimPruner, ChannelPruner
    with pytest.warns(DeprecationWarning, match="type='AutoSlimPruner'"):
        pruner = build_pruner(dict(type='ChannelPruner',
                                   input_shape=(3, 8, 8), ratios=(0.5, 1.0)))
    assert type(pruner) is AutoSlimPruner and pruner.keep_ratios == [0.5, 1.0]
    plain = build_pruner(dict(type='ChannelPruner', input_shape=(3, 8, 8)))
    assert type(plain) is ChannelPruner
    assert not hasattr(plain, 'sample_subnet')
