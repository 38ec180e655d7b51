"""ONNX export and runtimes: a pruned classifier and a segmentor exported
with a dynamic batch axis equal PyTorch in ONNX Runtime; an op no
exporter converts, and a backend that is not installed, are one line;
runtime latency is timed beside eager PyTorch."""
import numpy as np
import pytest
import torch
from mmcls.models import build_classifier
from torch import nn

import mmrazor_ext  # noqa: F401
from mmrazor_ext.deploy import (OnnxExportError, compare_outputs,
                                export_onnx, make_runner, runtimes)
from mmrazor_ext.engine.latency import latency_rows, runtime_latency
from mmrazor_ext.fusion import fold_bn
from mmrazor_ext.pruners import ChannelPruner
from mmrazor_ext.utils import UserInputError

SHAPE = (3, 16, 16)


@pytest.fixture(scope='module')
def pruned_resnet():
    """ResNet-20 pruned to half its FLOPs at the default divisor, BN
    statistics made non-trivial, then folded."""
    torch.manual_seed(0)
    model = build_classifier(dict(
        type='ImageClassifier', backbone=dict(type='CifarResNet', depth=20),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=64)))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    pruner = ChannelPruner(input_shape=SHAPE)
    pruner.prepare_from_supernet(model.eval())
    subnet = pruner.sample_subnet_flops(0.5, pruner.get_metric_local(
        'L1Metric'), mode='uniform')
    return fold_bn(pruner.export(subnet).eval(), SHAPE)[0]


def test_classifier_equals_pytorch_in_onnxruntime_at_any_batch(
        pruned_resnet, tmp_path):
    path = str(tmp_path / 'model.onnx')
    info = export_onnx(pruned_resnet, SHAPE, path, exporter='torchscript')
    assert info['exporter'] == 'torchscript' and info['opset'] == 17
    assert info['inputs'] == {'input': ['batch', *SHAPE]}
    ort, eager = make_runner('onnxruntime', onnx_path=path), \
        make_runner('torch', pruned_resnet)
    for batch in (1, 3):  # neither is the exported example's batch (2)
        x = torch.randn(batch, *SHAPE)
        check = compare_outputs(eager(x), ort(x))
        assert check['equal'] and check['relative_diff'] < 1e-5, check
        assert check['output_max_abs'] > 1e-3  # a meaningful comparison


def test_segmentor_equals_pytorch_in_onnxruntime(tmp_path):
    from mmseg.models import build_segmentor
    norm = dict(type='BN', requires_grad=True)
    torch.manual_seed(0)
    seg = build_segmentor(dict(
        type='EncoderDecoder',
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=8,
                      base_channels=8, num_stages=3, out_indices=(0, 1, 2),
                      dilations=(1, 1, 2), strides=(1, 2, 1),
                      norm_cfg=norm),
        decode_head=dict(type='FCNHead', in_channels=32, in_index=2,
                         channels=8, num_convs=1, num_classes=4,
                         norm_cfg=norm, align_corners=False),
        train_cfg=dict(), test_cfg=dict(mode='whole'))).eval()
    path = str(tmp_path / 'seg.onnx')
    export_onnx(seg, (3, 32, 32), path, exporter='torchscript')
    x = torch.randn(2, 3, 32, 32)
    ref = make_runner('torch', seg)(x)
    out = make_runner('onnxruntime', onnx_path=path)(x)
    assert ref[0].shape == (2, 4, 32, 32)  # forward_dummy: full size
    assert compare_outputs(ref, out)['equal']


class Cumulative(nn.Module):
    """A conv, then ``cummax``: no ONNX exporter converts it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = CumMax()

    def forward(self, x):
        return self.head(self.conv(x))


class CumMax(nn.Module):
    def forward(self, x):
        return torch.cummax(x, dim=1)[0]


def test_an_op_without_onnx_conversion_is_one_line_naming_op_and_module(
        tmp_path):
    path = tmp_path / 'model.onnx'
    with pytest.raises(OnnxExportError) as err:
        export_onnx(Cumulative(), SHAPE, str(path), exporter='torchscript')
    line = str(err.value)
    assert '\n' not in line and not path.exists()
    assert 'op aten::cummax in module head (CumMax)' in line, line


def test_a_graph_torchscript_cannot_convert_goes_to_dynamo_quietly(
        tmp_path, capfd):
    """Adaptive pooling to a size that does not divide its input: the
    TorchScript exporter fails after writing the whole graph to stdout
    from C++; none of it reaches the console."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(5),
                          nn.Flatten()).eval()
    info = export_onnx(model, (3, 8, 8), str(tmp_path / 'model.onnx'))
    assert info['exporter'] == 'dynamo'
    out, err = capfd.readouterr()
    assert 'graph' not in out + err, (out + err)[:300]


def test_a_backend_not_installed_names_its_pip_package(monkeypatch):
    monkeypatch.setitem(runtimes.BACKENDS, 'openvino', 'openvino-absent')
    with pytest.raises(UserInputError, match=r'^backend openvino is not '
                       r'installed: pip install openvino-absent$'):
        runtimes.check_backends(['onnxruntime', 'openvino'])
    with pytest.raises(UserInputError, match='not one of'):
        runtimes.check_backends(['tensorrt'])
    assert 'openvino' not in runtimes.installed_onnx_backends()


def test_outputs_compare_relative_to_their_max():
    ref = [np.array([[10.0, -20.0]])]
    assert compare_outputs(ref, [ref[0] + 1e-3])['equal']  # 5e-5 of 20
    far = compare_outputs(ref, [ref[0] + 1e-2])
    assert not far['equal'] and far['relative_diff'] == pytest.approx(5e-4)
    assert not compare_outputs(ref, [ref[0][:, :1]])['equal']  # shape


def test_runtime_latency_times_every_backend_interleaved(pruned_resnet):
    out = runtime_latency(dict(unpruned=nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.Conv2d(32, 32, 3)), exported=nn.Sequential(
        nn.Conv2d(3, 16, 3), nn.Conv2d(16, 32, 3))), SHAPE, (1, 2),
        threads=1, min_time=0.01, min_repeats=3)
    assert out['threads'] == 1 and set(out['backends']) == {
        'torch', 'onnxruntime'}
    assert out['onnx']['exported']['exporter'] == 'torchscript'
    rows = latency_rows(out['backends']['onnxruntime'], None)
    assert list(rows) == ['batch_1', 'batch_2']
    for row in rows.values():
        assert row['runs'] >= 3 and row['speedup'] > 0
        assert row['reliable'] == (row['caveat'] is None)
        # one thread: the calling thread's CPU time too, at most the wall's
        cpu = row['cpu_ms']
        assert 0 < cpu['exported'] <= row['iqr']['exported'][1] * 1.05
        assert row['cpu_speedup'] == pytest.approx(
            cpu['unpruned'] / cpu['exported'])
