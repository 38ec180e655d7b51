"""Which handler knows a module or a layer record.

Handlers live in ``LAYER_HANDLERS`` (``mmrazor_ext/registry.py``), one file
each in this folder. A module is known as a whole by the handler whose
``matches`` accepts it, the one registered last first (so a handler
registered by a user can take over a class a built-in one knows); every
other module is traced op by op from the autograd graph.
"""
from typing import Dict, List, Optional

from torch import nn

from ...registry import LAYER_HANDLERS
from .layer_handler import LayerHandler
from .layer_record import LayerRecord

_CACHE: Dict[str, object] = {}


def handlers() -> List[LayerHandler]:
    """One instance of every registered handler, the last registered
    first."""
    classes = tuple(LAYER_HANDLERS.module_dict.values())
    if _CACHE.get('classes') != classes:
        found = [cls() for cls in reversed(classes)]
        _CACHE.update(classes=classes, handlers=found,
                      kinds={h.kind: h for h in reversed(found)})
    return _CACHE['handlers']


def handler_for(module: nn.Module) -> Optional[LayerHandler]:
    """The handler that knows ``module`` as a whole, or None."""
    for h in handlers():
        if h.matches(module):
            return h
    return None


def handler_of(rec: LayerRecord) -> LayerHandler:
    """The handler of a record's kind."""
    if _CACHE.get('classes') != tuple(LAYER_HANDLERS.module_dict.values()):
        handlers()
    try:
        return _CACHE['kinds'][rec.kind]
    except KeyError:
        raise KeyError(f'no layer handler of kind {rec.kind!r} (record '
                       f'{rec.name}); registered kinds: '
                       f'{sorted(_CACHE["kinds"])}') from None
