import difflib
from typing import Union

from ..registry import METRICS
from .base_metric import BaseMetric


def build_metric(cfg: Union[str, dict, BaseMetric]) -> BaseMetric:
    """Build a metric from its registered name, a config dict, or pass one
    through.

    Args:
        cfg: ``'L1Metric'``, ``dict(type='FPGMMetric', ...)`` or an instance.

    Returns:
        The metric instance.

    Raises:
        KeyError: the name is not registered; the message gives the
            closest registered name and lists them all.
    """
    if isinstance(cfg, BaseMetric):
        return cfg
    if isinstance(cfg, str):
        cfg = dict(type=cfg)
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'metric must be a name or a dict with "type", '
                        f'got {cfg!r}')
    name = cfg['type']
    if isinstance(name, str) and name not in METRICS.module_dict:
        near = difflib.get_close_matches(name, METRICS.module_dict, n=1)
        hint = f'did you mean {near[0]}? ' if near else ''
        raise KeyError(f'unknown metric {name!r}; {hint}registered '
                       f'metrics: {", ".join(sorted(METRICS.module_dict))}')
    args = {k: v for k, v in cfg.items() if k != 'type'}
    return METRICS.get(name)(**args) if isinstance(name, str) else name(**args)


def metric_name(cfg) -> str:
    """How a metric setting reads in a log line: ``CDPMetric
    (num_classes=10)`` for ``dict(type='CDPMetric', num_classes=10)``."""
    if isinstance(cfg, BaseMetric):
        return type(cfg).__name__
    if not isinstance(cfg, dict):
        return str(cfg)
    kind = cfg.get('type')
    name = getattr(kind, '__name__', kind)
    args = ', '.join(f'{k}={v!r}' for k, v in cfg.items() if k != 'type')
    return f'{name} ({args})' if args else str(name)
