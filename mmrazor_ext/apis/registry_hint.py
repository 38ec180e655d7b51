"""A "did you mean" for a type name no registry knows."""
import difflib
import re

from .config_checks import _mmseg_data_registries

_NOT_REGISTERED = re.compile(r"(\w[\w.]*) is not in the (\w+) registry")


def registry_hint(message: str) -> str:
    """``message`` with a "did you mean" when it is mmcv's ``X is not in
    the Y registry``: the closest name registered in a registry called Y
    (mmrazor's algorithms and mmcls's models are both ``models``; this
    package's metrics are ``metric``), else in any registry."""
    found = _NOT_REGISTERED.search(message)
    if not found:
        return message
    name, registry = found.groups()
    by_registry = _registered_names()
    for pool in (by_registry.get(registry, []),
                 sorted({n for names in by_registry.values()
                         for n in names})):
        near = difflib.get_close_matches(name.split('.')[-1], pool, n=1)
        if near:
            return f'{message}; did you mean {near[0]}?'
    return message


def _registered_names() -> dict:
    """``{registry name: [registered names]}`` of the registries a run
    builds from (mmcv's roots with their children, this package's
    metrics)."""
    from mmcls.datasets import DATASETS, PIPELINES
    from mmcv.cnn import MODELS
    from mmcv.runner import HOOKS, OPTIMIZERS, RUNNERS
    from mmrazor.core.builder import SEARCHERS

    from ..registry import METRICS
    names, todo = {}, [MODELS, DATASETS, PIPELINES, HOOKS, OPTIMIZERS,
                       RUNNERS, SEARCHERS, METRICS,
                       *_mmseg_data_registries()]
    while todo:
        registry = todo.pop()
        todo += registry.children.values()
        names.setdefault(registry.name, []).extend(registry.module_dict)
    return names
