"""What the Pruner and Metric layers need to know about a model framework,
in one place per framework: mmcls classifiers (:mod:`.mmcls_adapter`) and
mmseg segmentors (:mod:`.mmseg_adapter`). Each function below picks the
adapter from what it is given (a segmentor has ``decode_head``; a
segmentation batch holds ``gt_semantic_seg`` or a list of images; a
segmentation data config names an mmseg dataset), classifiers otherwise,
so callers need not know which framework they hold."""
from . import mmcls_adapter, mmcls_layers, mmseg_adapter
from .mmseg_adapter import is_segmentor


def trace_forward(model, x):
    """The outputs the Pruner traces: logits (classifiers); decode and
    auxiliary head logits (segmentors)."""
    adapter = mmseg_adapter if is_segmentor(model) else mmcls_adapter
    return adapter.trace_forward(model, x)


def predict_forward(model, x):
    """The inference forward (timed for latency): a classifier's logits, a
    segmentor's ``forward_dummy`` without auxiliary heads."""
    if is_segmentor(model):
        return mmseg_adapter.predict_forward(model, x)
    return mmcls_adapter.trace_forward(model, x)


def inference(model, img):
    """Test-mode forward whose features a Metric reads (for segmentors
    also the auxiliary heads, whose layers the Pruner may score)."""
    if is_segmentor(model):
        return mmseg_adapter.trace_forward(model, img)
    return mmcls_adapter.inference(model, img)


def classification_loss(model, img, labels):
    """The training loss summed over images (for gradient metrics)."""
    if is_segmentor(model):
        return mmseg_adapter.segmentation_loss(model, img, labels)
    return mmcls_adapter.classification_loss(model, img, labels)


def split_batch(batch):
    """``(img, labels or None)`` of a data loader batch."""
    if mmseg_adapter.is_segmentation_batch(batch):
        return mmseg_adapter.split_batch(batch)
    return mmcls_adapter.split_batch(batch)


def residual_blocks(model):
    """Names of the model's residual blocks, in forward order."""
    adapter = mmseg_adapter if is_segmentor(model) else mmcls_adapter
    return adapter.residual_blocks(model)


def build_loader(data_cfg, split: str, seed: int = 0,
                 distributed: bool = False):
    """A data loader over ``data_cfg[split]`` ('train' shuffled)."""
    seg = mmseg_adapter.is_segmentation_dataset_cfg(data_cfg[split])
    adapter = mmseg_adapter if seg else mmcls_adapter
    return adapter.build_loader(data_cfg, split, seed, distributed)


def scoped_architecture(architecture: dict) -> dict:
    """An architecture config whose model type is looked up in its
    framework's registry (``mmcls.`` or ``mmseg.``)."""
    model = architecture.get('model')
    kind = model.get('type') if isinstance(model, dict) else None
    if mmseg_adapter.is_segmentor_type(kind):
        return mmseg_adapter.scoped_architecture(architecture)
    return mmcls_adapter.scoped_architecture(architecture)


def attention_layouts():
    """``{attention class: AttentionSpec fields}`` the frameworks add to
    the Pruner's own (torch, torchvision) attention classes."""
    return dict(mmcls_layers.attention_layouts())


def width_fixers():
    """``{model class: fix(module)}``: framework models whose forward
    reads a pruned width from an attribute, set after export."""
    return dict(mmcls_layers.width_fixers())


__all__ = ['trace_forward', 'predict_forward', 'inference',
           'classification_loss', 'split_batch', 'residual_blocks',
           'build_loader', 'scoped_architecture', 'is_segmentor',
           'attention_layouts', 'width_fixers']
