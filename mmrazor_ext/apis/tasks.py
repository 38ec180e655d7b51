"""Classification or segmentation: the dataset, loader and wrapper calls
that differ between mmcls and mmseg, chosen from the config or object
(mmseg's when the dataset type is one of mmseg's, mmcls's otherwise), so
``tools/train.py`` and ``tools/test.py`` serve both."""
import inspect

from ..adapters import is_segmentor, mmseg_adapter


def is_segmentation_cfg(dataset_cfg) -> bool:
    return mmseg_adapter.is_segmentation_dataset_cfg(dataset_cfg)


def build_dataset(cfg, default_args=None):
    """mmseg's or mmcls's ``build_dataset`` by the config's type."""
    if is_segmentation_cfg(cfg):
        from mmseg.datasets import build_dataset as build
    else:
        from mmcls.datasets import build_dataset as build
    return build(cfg, default_args)


def build_dataloader(dataset, **kwargs):
    """mmseg's or mmcls's ``build_dataloader`` by the dataset; settings
    mmseg's does not take (``round_up``, ``sampler_cfg``: its samplers pad
    to whole batches per rank already) are left out for it."""
    if not mmseg_adapter.is_segmentation_dataset(dataset):
        from mmcls.datasets import build_dataloader as build
        return build(dataset, **kwargs)
    from mmseg.datasets import build_dataloader as build
    known = inspect.signature(build).parameters
    kwargs = {k: v for k, v in kwargs.items()
              if k in known and k not in ('round_up', 'sampler_cfg')}
    return build(dataset, **kwargs)


def needs_scatter(model) -> bool:
    """The model reads DataContainers (mmseg's ``img_metas``): on CPU it
    is run through ``MMDataParallel``, which unwraps them."""
    return is_segmentor(model) or is_segmentor(
        getattr(model, 'architecture', None))


def default_metrics(dataset_cfg):
    """``['mIoU']`` for segmentation data, ``['accuracy']`` otherwise."""
    return ['mIoU'] if is_segmentation_cfg(dataset_cfg) else ['accuracy']
