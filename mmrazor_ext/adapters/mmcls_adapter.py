"""The only code that knows an mmcls classifier.

The Pruner and Metric layers call a model through these functions and
never look inside it themselves. An mmcls ``ImageClassifier`` is
recognised by what it has (``extract_feat`` and a ``head``), so an mmrazor
architecture around one works too; any other ``nn.Module`` mapping an
image batch to logits is called as ``model(img)``.

- :func:`trace_forward`: image batch -> logits, for the Pruner's trace.
- :func:`inference`: the forward pass a Metric hooks to read features.
- :func:`classification_loss`: the summed training loss, for gradient
  metrics (Taylor).
- :func:`split_batch`: ``(img, labels)`` of an mmcls data loader batch.
- :func:`residual_blocks`: names of the residual blocks, in forward order.
- :func:`build_loader`: a data loader of a config's split.
- :func:`scoped_architecture`: an mmrazor architecture config whose
  classifier type is looked up in mmcls's registry.
"""
import inspect
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.parallel import DataContainer
from torch import Tensor, nn


def _has_head(model: nn.Module, *methods: str) -> bool:
    return hasattr(model, 'head') and all(hasattr(model, m) for m in methods)


def _required_inputs(model: nn.Module) -> int:
    params = inspect.signature(model.forward).parameters.values()
    return sum(1 for p in params
               if p.default is p.empty and p.kind in (
                   p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def trace_forward(model: nn.Module, x: Tensor):
    """Logits of ``x`` through a classifier's backbone, neck and head (no
    softmax), or plain ``model(x)``.

    A module with a ``model`` attribute and no ``extract_feat`` (an mmrazor
    architecture) is unwrapped first.

    Args:
        model: An mmcls classifier, an architecture around one, or any
            module taking one image tensor.
        x: ``[N, C, H, W]`` images.

    Returns:
        What the head or the model returns (a logits tensor for mmcls).

    Raises:
        ValueError: ``model.forward`` needs more than one input.
    """
    inner = model if hasattr(model, 'extract_feat') else getattr(
        model, 'model', model)
    if _has_head(inner, 'extract_feat'):
        feats = inner.extract_feat(x)
        try:
            return inner.head.simple_test(
                feats, softmax=False, post_process=False)
        except TypeError:  # heads without those arguments
            return inner.head.simple_test(feats)
    if not hasattr(model, 'extract_feat') and not hasattr(model, 'model') \
            and _required_inputs(model) > 1:
        raise ValueError(
            f'{type(model).__name__}.forward needs more than one input; '
            'the pruner traces with a single image tensor (pass '
            'forward_fn to trace another call)')
    return inner(x)


def inference(model: nn.Module, img: Tensor):
    """Test-mode forward of ``img``: ``model(img=img, return_loss=False)``
    for an mmcls classifier, else ``model(img)``. Run it for the features
    it passes through; its output format is the model's."""
    if _has_head(model, 'forward_train'):
        return model(img=img, return_loss=False)
    return model(img)


def classification_loss(model: nn.Module, img: Tensor,
                        labels: Tensor) -> Tensor:
    """The loss of ``img`` summed over images, so each image's gradient is
    that of its own loss.

    For an mmcls classifier: the head's losses (every ``loss*`` entry) on
    ``extract_feat(img)``, skipping ``forward_train``'s batch augments
    (mixup, cutmix) which would mix images and their gradients, times the
    batch size (mmcls losses average over the batch). For any other model:
    cross-entropy of ``model(img)`` with ``reduction='sum'``.

    Args:
        model: An mmcls classifier or a module returning logits.
        img: ``[N, C, H, W]`` images.
        labels: ``[N]`` class indices.

    Returns:
        A scalar tensor.
    """
    if _has_head(model, 'forward_train'):
        losses = model.head.forward_train(model.extract_feat(img), labels)
        loss = sum(sum(v.mean() for v in value) if isinstance(value, list)
                   else value.mean() for key, value in losses.items()
                   if 'loss' in key)
        return loss * img.shape[0]
    return F.cross_entropy(model(img), labels, reduction='sum')


def split_batch(batch) -> Tuple[Tensor, Optional[Tensor]]:
    """``(img, labels or None)`` from an mmcls batch dict (possibly holding
    DataContainers), an ``(img, label)`` pair or a bare tensor.

    Examples:
        >>> import torch
        >>> img, labels = split_batch(dict(img=torch.zeros(2, 3, 4, 4)))
        >>> img.shape, labels
        (torch.Size([2, 3, 4, 4]), None)
    """
    if isinstance(batch, dict):
        if 'img' not in batch:
            raise ValueError(f"a batch dict needs 'img' (mmcls data loader "
                             f'format), got keys {sorted(batch)}')
        return _unwrap(batch['img']), _unwrap(batch.get('gt_label'))
    if isinstance(batch, (tuple, list)) and batch:
        return _unwrap(batch[0]), (_unwrap(batch[1])
                                   if len(batch) > 1 else None)
    if isinstance(batch, Tensor):
        return batch, None
    raise TypeError(f'cannot read a batch of type {type(batch).__name__}; '
                    f'give dicts with img/gt_label, (img, label) or tensors')


def _unwrap(value):
    if isinstance(value, DataContainer):
        value = value.data
        if isinstance(value, list):  # one entry per device after collate
            value = value[0] if len(value) == 1 else torch.cat(value)
    return value


def residual_blocks(model: nn.Module) -> List[str]:
    """Names of ``model``'s residual blocks, in registration (for mmcls
    backbones, forward) order.

    A block is a module whose class name ends in ``Block`` or is
    ``Bottleneck``: mmcls's ResNet ``BasicBlock`` / ``Bottleneck`` (so the
    blocks of this package's ``CifarResNet``) and any user block named that
    way. mmcls's ``InvertedResidual`` is not one: most of them have no
    identity path.
    """
    return [n for n, m in model.named_modules()
            if type(m).__name__.endswith('Block')
            or type(m).__name__ == 'Bottleneck']


def build_loader(data_cfg, split: str, seed: int = 0,
                 distributed: bool = False):
    """An mmcls data loader over ``data_cfg[split]``: 'train' shuffled,
    'val' / 'test' in order and in test mode; split across ranks when
    ``distributed``."""
    from mmcls.datasets import build_dataloader, build_dataset
    test_mode = split != 'train'
    dataset = build_dataset(data_cfg[split], dict(test_mode=True)
                            if test_mode else None)
    return build_dataloader(
        dataset, samples_per_gpu=data_cfg.get('samples_per_gpu', 32),
        workers_per_gpu=data_cfg.get('workers_per_gpu', 0), num_gpus=1,
        dist=distributed, shuffle=not test_mode, round_up=True,
        seed=seed, persistent_workers=False,
        pin_memory=torch.cuda.is_available())


def scoped_architecture(architecture: dict) -> dict:
    """The classifier's type looked up in mmcls's registry, so an mmrazor
    architecture config can reuse an mmcls ``model`` dict
    (``type='ImageClassifier'``)."""
    model = architecture.get('model')
    if isinstance(model, dict) and '.' not in model.get('type', '.'):
        model = dict(model, type='mmcls.' + model['type'])
        architecture = dict(architecture, model=model)
    return architecture
