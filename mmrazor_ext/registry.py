"""Registries owned by this package.

Everything else registers into the existing mmcls / mmrazor registries
(BACKBONES, DATASETS, PRUNERS, ALGORITHMS, ...); only what has no home
there is declared here, one line each.
"""
from mmcv.utils import Registry

# Channel / layer importance criteria: ``{layer: tensor} -> {layer: scores}``.
METRICS = Registry('metric')

# What the channel pruner knows about each layer kind (conv, linear, norm,
# attention, ...): ``LayerHandler`` subclasses, one file each under
# ``pruners/handlers/``.
LAYER_HANDLERS = Registry('layer handler')
