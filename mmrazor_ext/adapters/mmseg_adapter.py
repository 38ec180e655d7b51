"""The only code that knows an mmseg segmentor (``EncoderDecoder`` and
its subclasses), beside :mod:`.mmcls_adapter` for classifiers.

A segmentor is recognised by what it has (``extract_feat``,
``decode_head``), so an mmrazor architecture around one works too.
Nothing here imports mmseg at module level: the package imports without
it, and :mod:`mmrazor_ext.adapters` asks :func:`is_segmentor` first.

- :func:`trace_forward`: images -> decode logits (as ``forward_dummy``,
  resized to the input) AND every auxiliary head's logits. Auxiliary heads
  run only in training, but they read backbone channels: traced, they are
  consumers of those channels and are pruned with them, so training goes
  on after export.
- :func:`predict_forward`: ``forward_dummy`` alone (inference cost).
- :func:`segmentation_loss`: decode + auxiliary losses, summed over images.
- :func:`split_batch`, :func:`residual_blocks`, :func:`build_loader`,
  :func:`scoped_architecture`, :func:`evaluate_results` (mIoU and aAcc by
  the dataset's own mmseg ``evaluate``).
"""
import itertools
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.parallel import DataContainer
from torch import Tensor, nn

#: Metrics of the report, in %: (key of mmseg's evaluate, our key).
REPORT_METRICS = (('mIoU', 'mIoU'), ('aAcc', 'aAcc'))


def segmentor(model: nn.Module) -> Optional[nn.Module]:
    """The segmentor in ``model`` (itself or an architecture's ``model``),
    or None."""
    for m in (model, getattr(model, 'model', None)):
        if isinstance(m, nn.Module) and hasattr(m, 'decode_head') and \
                hasattr(m, 'extract_feat') and hasattr(m, 'forward_dummy'):
            return m
    return None


def is_segmentor(model) -> bool:
    return segmentor(model) is not None


def _aux_heads(seg: nn.Module) -> List[nn.Module]:
    aux = getattr(seg, 'auxiliary_head', None)
    if aux is None:
        return []
    return list(aux) if isinstance(aux, nn.ModuleList) else [aux]


def _resize(seg, out, size):
    return F.interpolate(out, size=size, mode='bilinear',
                         align_corners=getattr(seg, 'align_corners', False))


def trace_forward(model: nn.Module, x: Tensor) -> Tuple[Tensor, ...]:
    """``(decode logits at the input size, aux head 1 logits, ...)``."""
    seg = segmentor(model)
    feats = seg.extract_feat(x)
    if hasattr(seg, '_decode_head_forward_test'):  # cascades included
        out = seg._decode_head_forward_test(feats, None)
    else:
        out = seg.decode_head(feats)
    outs = [_resize(seg, out, x.shape[2:])]
    return tuple(outs + [head(feats) for head in _aux_heads(seg)])


def predict_forward(model: nn.Module, x: Tensor) -> Tensor:
    """Inference as deployed: ``forward_dummy`` (no auxiliary head)."""
    return segmentor(model).forward_dummy(x)


def _metas(img: Tensor) -> List[dict]:
    shape = (*img.shape[2:], img.shape[1])
    return [dict(img_shape=shape, ori_shape=shape, pad_shape=shape,
                 flip=False)] * img.shape[0]


def segmentation_loss(model: nn.Module, img: Tensor,
                      labels: Tensor) -> Tensor:
    """Sum of the decode and auxiliary losses (``loss*`` entries, with
    their configured weights) times the batch size, so each image's
    gradient is about that of its own loss (mmseg averages over pixels).

    Args:
        model: A segmentor or an architecture around one.
        img: ``[N, C, H, W]`` images.
        labels: ``[N, 1, H, W]`` (or ``[N, H, W]``) class indices.
    """
    seg = segmentor(model)
    labels = labels.long()
    if labels.dim() == 3:
        labels = labels[:, None]
    feats = seg.extract_feat(img)
    metas = _metas(img)
    losses = dict(seg._decode_head_forward_train(feats, metas, labels))
    if _aux_heads(seg):
        losses.update(
            seg._auxiliary_head_forward_train(feats, metas, labels))
    total = 0
    for key, value in losses.items():
        if 'loss' in key:
            total = total + (sum(v.mean() for v in value)
                             if isinstance(value, list) else value.mean())
    return total * img.shape[0]


def _unwrap(value):
    if isinstance(value, DataContainer):
        value = value.data
        if isinstance(value, list) and value and \
                all(isinstance(v, Tensor) for v in value):
            value = value[0] if len(value) == 1 else torch.cat(value)
    if isinstance(value, (list, tuple)) and value and \
            not isinstance(value, Tensor):
        value = _unwrap(value[0])  # test-time augmentations: the first
    return value


def split_batch(batch) -> Tuple[Tensor, Optional[Tensor]]:
    """``(img, gt_semantic_seg or None)`` of an mmseg batch (training:
    DataContainers; testing: lists over augmentations, the first taken)."""
    return _unwrap(batch['img']), _unwrap(batch.get('gt_semantic_seg'))


def is_segmentation_batch(batch) -> bool:
    return isinstance(batch, dict) and (
        'gt_semantic_seg' in batch or isinstance(batch.get('img'), list))


def residual_blocks(model: nn.Module) -> List[str]:
    """Names of the residual blocks (mmseg ResNet ``BasicBlock`` /
    ``Bottleneck``), in registration order; UNet's ``BasicConvBlock`` and
    ``UpConvBlock`` have no identity path and are left out."""
    return [n for n, m in model.named_modules()
            if type(m).__name__ in ('BasicBlock', 'Bottleneck')]


# ------------------------------------------------------------ registries
def _mmseg(name: str):
    try:
        return __import__(f'mmseg.{name}', fromlist=['*'])
    except ImportError:  # mmseg absent or hidden (optional_deps)
        return None


def _in_registry(registry_owner: str, registry: str, type_name) -> bool:
    if not isinstance(type_name, str):
        return False
    if type_name.startswith('mmseg.'):
        return True
    if '.' in type_name:
        return False
    module = _mmseg(registry_owner)
    return module is not None and \
        getattr(module, registry).get(type_name) is not None


def is_segmentor_type(type_name) -> bool:
    """``type_name`` is a segmentor of mmseg's registry."""
    return _in_registry('models', 'SEGMENTORS', type_name)


def dataset_type(cfg) -> Optional[str]:
    """The type of a dataset config, looking through wrappers
    (``RepeatDataset``, ``ConcatDataset``...)."""
    if isinstance(cfg, (list, tuple)):
        return dataset_type(cfg[0]) if cfg else None
    if not isinstance(cfg, dict):
        return None
    for key in ('dataset', 'datasets'):
        if key in cfg:
            return dataset_type(cfg[key])
    return cfg.get('type')


def is_segmentation_dataset_cfg(cfg) -> bool:
    """The dataset config names a type of mmseg's ``DATASETS`` that
    mmcls's does not have."""
    kind = dataset_type(cfg)
    if not _in_registry('datasets', 'DATASETS', kind):
        return False
    from mmcls.datasets import DATASETS as CLS_DATASETS
    return kind.startswith('mmseg.') or CLS_DATASETS.get(kind) is None


def is_segmentation_dataset(dataset) -> bool:
    """An mmseg dataset (it gives ground-truth segmentation maps)."""
    return hasattr(dataset, 'get_gt_seg_maps')


def build_loader(data_cfg, split: str, seed: int = 0,
                 distributed: bool = False):
    """An mmseg data loader over ``data_cfg[split]``: 'train' shuffled,
    'val' / 'test' in order and in test mode."""
    from mmseg.datasets import build_dataloader, build_dataset
    test_mode = split != 'train'
    dataset = build_dataset(data_cfg[split], dict(test_mode=True)
                            if test_mode else None)
    return build_dataloader(
        dataset, samples_per_gpu=data_cfg.get('samples_per_gpu', 4),
        workers_per_gpu=data_cfg.get('workers_per_gpu', 0), num_gpus=1,
        dist=distributed, shuffle=not test_mode, seed=seed, drop_last=False,
        persistent_workers=False, pin_memory=torch.cuda.is_available())


def scoped_architecture(architecture: dict) -> dict:
    """The segmentor's type looked up in mmseg's registry
    (``type='EncoderDecoder'`` as ``mmseg.EncoderDecoder``)."""
    model = architecture.get('model')
    if isinstance(model, dict) and '.' not in model.get('type', '.'):
        model = dict(model, type='mmseg.' + model['type'])
        architecture = dict(architecture, model=model)
    return architecture


def evaluate_results(dataset, results: Sequence, num: Optional[int] = None
                     ) -> Dict[str, float]:
    """``{'mIoU': %, 'aAcc': %}`` of predicted maps ``results`` (one per
    image, dataset order) by the dataset's own mmseg ``evaluate``; only
    its first ``num`` images when given."""
    num = len(dataset) if num is None else num
    gts = list(itertools.islice(dataset.get_gt_seg_maps(), num))
    res = dataset.evaluate(list(results[:num]), metric='mIoU',
                           logger='silent', gt_seg_maps=gts)
    return {ours: float(res[key]) * 100 for key, ours in REPORT_METRICS}
