"""The mmcls adapter: the same numbers as calling the classifier by hand,
and plain modules called as ``model(img)``."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcls.models import build_backbone, build_classifier
from mmcv.parallel import DataContainer, collate

import mmrazor_ext  # noqa: F401
from mmrazor_ext.adapters import (classification_loss, inference,
                                  residual_blocks, split_batch,
                                  trace_forward)


@pytest.fixture(scope='module')
def classifier():
    torch.manual_seed(0)
    model = build_classifier(dict(
        type='ImageClassifier',
        backbone=dict(type='CifarResNet', depth=20),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=3, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))))
    return model.eval()


def _img(n=4):
    return torch.randn(n, 3, 8, 8, generator=torch.Generator().manual_seed(1))


def _plain():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, 3)).eval()


class _Arch(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model


def test_trace_forward_gives_the_heads_logits(classifier):
    x = _img()
    with torch.no_grad():
        logits = trace_forward(classifier, x)
        expected = classifier.head.fc(
            classifier.neck(classifier.backbone(x)[-1]))
        # an mmrazor architecture holds the classifier as ``.model``
        wrapped = trace_forward(_Arch(classifier), x)
        scores = inference(classifier, x)
    torch.testing.assert_close(logits, expected)
    torch.testing.assert_close(wrapped, expected)
    # inference is mmcls's test mode: softmax, one array per image
    assert len(scores) == 4
    torch.testing.assert_close(torch.as_tensor(np.stack(scores)),
                               logits.softmax(1), rtol=1e-5, atol=1e-6)


def test_plain_module_is_called_with_the_image():
    model = _plain()
    x = _img()
    with torch.no_grad():
        torch.testing.assert_close(trace_forward(model, x), model(x))
        torch.testing.assert_close(inference(model, x), model(x))

    class TwoInputs(nn.Module):
        def forward(self, x, y):
            return x + y

    with pytest.raises(ValueError, match='more than one input'):
        trace_forward(TwoInputs(), x)


def test_classification_loss_is_summed_cross_entropy(classifier):
    x, labels = _img(), torch.tensor([0, 1, 2, 1])
    with torch.no_grad():
        expected = F.cross_entropy(trace_forward(classifier, x), labels,
                                   reduction='sum')
        loss = classification_loss(classifier, x, labels)
    torch.testing.assert_close(loss, expected)
    plain = _plain()
    with torch.no_grad():
        torch.testing.assert_close(
            classification_loss(plain, x, labels),
            F.cross_entropy(plain(x), labels, reduction='sum'))


def test_classification_loss_has_per_image_gradients(classifier):
    x, labels = _img(2).requires_grad_(), torch.tensor([0, 2])
    grad, = torch.autograd.grad(classification_loss(classifier, x, labels), x)
    first = _img(2)[:1].requires_grad_()
    grad0, = torch.autograd.grad(
        classification_loss(classifier, first, labels[:1]), first)
    torch.testing.assert_close(grad[:1], grad0)


def test_split_batch_reads_mmcls_loader_batches_pairs_and_tensors():
    samples = [dict(img=DataContainer(torch.full((3, 2, 2), float(i)),
                                      stack=True),
                    gt_label=torch.tensor(i)) for i in range(3)]
    img, labels = split_batch(collate(samples, samples_per_gpu=3))
    assert img.shape == (3, 3, 2, 2) and labels.tolist() == [0, 1, 2]
    assert img[:, 0, 0, 0].tolist() == [0., 1., 2.]
    x = torch.zeros(2, 3, 2, 2)
    pair = split_batch((x, torch.tensor([1, 0])))
    assert pair[0] is x and pair[1].tolist() == [1, 0]
    assert split_batch(x) == (x, None)
    with pytest.raises(ValueError, match="needs 'img'"):
        split_batch(dict(image=x))
    with pytest.raises(TypeError, match='cannot read a batch of type str'):
        split_batch('img')


def test_residual_blocks_in_forward_order(classifier):
    names = residual_blocks(classifier)
    assert names == [f'backbone.layer{s}.{b}' for s in (1, 2, 3)
                     for b in range(3)]
    resnet50 = build_backbone(dict(type='ResNet', depth=50))
    blocks = residual_blocks(resnet50)
    assert len(blocks) == 3 + 4 + 6 + 3
    assert blocks[0] == 'layer1.0' and blocks[-1] == 'layer4.2'
    assert all(type(resnet50.get_submodule(n)).__name__ == 'Bottleneck'
               for n in blocks)
    assert residual_blocks(_plain()) == []
