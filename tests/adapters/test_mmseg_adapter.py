"""The mmseg adapter, and the Pruner on mmseg segmentors through it: tiny
FCN, PSPNet, DeepLabV3+ and UNet (with auxiliary heads) pruned at 50%,
exported == masked on the decode and auxiliary outputs, and a training
step of the exported model (auxiliary head included) runs."""
import numpy as np
import pytest
import torch

import mmrazor_ext  # noqa: F401
from mmrazor_ext import adapters
from mmrazor_ext.adapters import mmseg_adapter
from mmrazor_ext.utils.tensor_compare import assert_close

mmseg_models = pytest.importorskip('mmseg.models')
NORM = dict(type='BN', requires_grad=True)
NUM_CLASSES = 4


def _resnet(**kw):
    return dict(type='ResNetV1c', depth=18, stem_channels=8,
                base_channels=8, num_stages=4, out_indices=(0, 1, 2, 3),
                dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1),
                norm_cfg=NORM, contract_dilation=True, **kw)


def _aux(in_channels, in_index):
    return dict(type='FCNHead', in_channels=in_channels, in_index=in_index,
                channels=8, num_convs=1, concat_input=False,
                num_classes=NUM_CLASSES, norm_cfg=NORM,
                loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4))


MODELS = {
    'fcn': dict(
        backbone=_resnet(),
        decode_head=dict(type='FCNHead', in_channels=64, in_index=3,
                         channels=16, num_convs=2, concat_input=True,
                         num_classes=NUM_CLASSES, norm_cfg=NORM),
        auxiliary_head=_aux(32, 2)),
    'pspnet': dict(
        backbone=_resnet(),
        decode_head=dict(type='PSPHead', in_channels=64, in_index=3,
                         channels=16, pool_scales=(1, 2, 3, 6),
                         num_classes=NUM_CLASSES, norm_cfg=NORM),
        auxiliary_head=_aux(32, 2)),
    'deeplabv3plus': dict(
        backbone=_resnet(),
        decode_head=dict(type='DepthwiseSeparableASPPHead', in_channels=64,
                         in_index=3, channels=16, dilations=(1, 2, 3, 4),
                         c1_in_channels=8, c1_channels=8,
                         num_classes=NUM_CLASSES, norm_cfg=NORM),
        auxiliary_head=_aux(32, 2)),
    'unet': dict(
        backbone=dict(type='UNet', in_channels=3, base_channels=8,
                      num_stages=3, strides=(1, 1, 1),
                      enc_num_convs=(2, 2, 2), dec_num_convs=(2, 2),
                      downsamples=(True, True), enc_dilations=(1, 1, 1),
                      dec_dilations=(1, 1), norm_cfg=NORM,
                      upsample_cfg=dict(type='InterpConv')),
        decode_head=dict(type='FCNHead', in_channels=8, in_index=2,
                         channels=8, num_convs=1, concat_input=False,
                         num_classes=NUM_CLASSES, norm_cfg=NORM),
        auxiliary_head=_aux(16, 1)),
}


def build(name):
    torch.manual_seed(0)
    model = mmseg_models.build_segmentor(dict(
        type='EncoderDecoder', train_cfg=dict(),
        test_cfg=dict(mode='whole'), **MODELS[name]))
    model.init_weights()
    with torch.no_grad():  # BN statistics that are not the identity
        model.train()
        adapters.trace_forward(model, torch.randn(4, 3, 32, 32))
    return model.eval()


def _metas(n, size=32):
    shape = (size, size, 3)
    return [dict(img_shape=shape, ori_shape=shape, pad_shape=shape,
                 flip=False)] * n


def test_trace_and_predict_forward():
    model = build('fcn')
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        outs = adapters.trace_forward(model, x)
        dummy = model.forward_dummy(x)
        assert torch.equal(adapters.predict_forward(model, x), dummy)
    assert len(outs) == 2  # decode head at the input size, auxiliary head
    assert_close(outs[0], dummy, rtol=1e-6)
    assert outs[1].shape[:2] == (2, NUM_CLASSES)
    assert adapters.is_segmentor(model) and not adapters.is_segmentor(
        torch.nn.Conv2d(3, 3, 1))
    blocks = adapters.residual_blocks(model)
    assert blocks[0] == 'backbone.layer1.0' and len(blocks) == 8


def test_loss_is_the_models_training_loss():
    model = build('fcn').train()
    img = torch.randn(2, 3, 32, 32)
    gt = torch.randint(0, NUM_CLASSES, (2, 1, 32, 32))
    torch.manual_seed(1)  # dropout
    loss = adapters.classification_loss(model, img, gt)
    torch.manual_seed(1)
    own = model.forward_train(img, _metas(2), gt)
    total = sum(v for k, v in own.items() if 'loss' in k)
    assert torch.allclose(loss, total * 2)


def test_split_batch_of_train_and_test_batches():
    from mmcv.parallel import DataContainer as DC
    img, gt = torch.zeros(2, 3, 8, 8), torch.ones(2, 1, 8, 8)
    train = dict(img=DC(img, stack=True), img_metas=DC([{}], cpu_only=True),
                 gt_semantic_seg=DC(gt, stack=True))
    got = adapters.split_batch(train)
    assert got[0] is img and got[1] is gt
    test = dict(img=[img], img_metas=[DC([{}], cpu_only=True)])
    got = adapters.split_batch(test)
    assert got[0] is img and got[1] is None


def test_registries():
    assert mmseg_adapter.is_segmentor_type('EncoderDecoder')
    assert not mmseg_adapter.is_segmentor_type('ImageClassifier')
    arch = adapters.scoped_architecture(
        dict(type='MMSegArchitecture', model=dict(type='EncoderDecoder')))
    assert arch['model']['type'] == 'mmseg.EncoderDecoder'
    arch = adapters.scoped_architecture(
        dict(type='MMClsArchitecture', model=dict(type='ImageClassifier')))
    assert arch['model']['type'] == 'mmcls.ImageClassifier'
    seg = dict(type='RepeatDataset', times=2,
               dataset=dict(type='DigitsSegmentation'))
    assert mmseg_adapter.is_segmentation_dataset_cfg(seg)
    assert not mmseg_adapter.is_segmentation_dataset_cfg(
        dict(type='SklearnDigits'))


@pytest.mark.parametrize('name', sorted(MODELS))
def test_prune_export_and_train(name):
    from mmrazor.models.builder import build_pruner
    model = build(name)
    pruner = build_pruner(dict(type='ChannelPruner', input_shape=(3, 32, 32),
                                divisor=1))
    pruner.prepare_from_supernet(model)
    aux_convs = [n for n in pruner.feature_layer_names()
                 if n.startswith('auxiliary_head')]
    assert aux_convs, 'the auxiliary head has prunable channels'
    subnet = pruner.sample_subnet_uniform(
        0.5, pruner.get_metric_local('L1Metric'))
    pruner.set_subnet(subnet)
    flops, params = pruner.flops_params(subnet)
    full_flops, full_params = pruner.flops_params({})
    assert flops < 0.5 * full_flops and params < 0.5 * full_params
    x = torch.randn(2, 3, 32, 32)
    exported = pruner.export().eval()
    with torch.no_grad():
        masked = adapters.trace_forward(model, x)
        small = adapters.trace_forward(exported, x)
    assert len(masked) == len(small) == 2
    for a, b in zip(masked, small):  # decode and auxiliary outputs
        assert (a - b).abs().max() <= 1e-4 * a.abs().max()
    # the auxiliary head reads the pruned backbone channels: it was
    # narrowed with them, so training (which runs it) goes on
    aux_in = exported.auxiliary_head.convs[0].conv.in_channels
    assert aux_in < model.auxiliary_head.convs[0].conv.in_channels
    exported.train()
    opt = torch.optim.SGD(exported.parameters(), lr=0.01)
    gt = torch.randint(0, NUM_CLASSES, (2, 1, 32, 32))
    losses = exported.forward_train(x, _metas(2), gt)
    assert 'aux.loss_ce' in losses
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    opt.step()
    assert np.isfinite(losses['aux.loss_ce'].item())


@pytest.mark.parametrize('metric', ['TaylorMetric', 'MeanActivationMetric'])
def test_feature_metrics_on_segmentation_batches(metric):
    """Feature and gradient metrics read every prunable space, the
    auxiliary head's included, from mmseg training batches."""
    from mmcv.parallel import DataContainer as DC
    from mmrazor.models.builder import build_pruner

    from mmrazor_ext.metrics import collect_statistics
    model = build('fcn')
    pruner = build_pruner(dict(type='ChannelPruner', input_shape=(3, 32, 32),
                                divisor=1))
    pruner.prepare_from_supernet(model)
    batch = dict(img=DC(torch.randn(2, 3, 32, 32), stack=True),
                 img_metas=DC([{}], cpu_only=True),
                 gt_semantic_seg=DC(torch.randint(0, NUM_CLASSES,
                                                  (2, 1, 32, 32)),
                                    stack=True))
    layers = pruner.feature_layer_names()
    assert any(n.startswith('auxiliary_head') for n in layers)
    scores = pruner.get_metric_local(metric, collect_statistics(
        model, metric, [batch, batch], layers=layers))
    assert len(scores) == len(pruner.prunable_spaces)
    assert all(torch.isfinite(s).all() for s in scores.values())
    aux = [sp.name for sp in pruner.prunable_spaces
           if sp.feature_layer.startswith('auxiliary_head')]
    assert aux and all(scores[n].abs().sum() > 0 for n in aux)
