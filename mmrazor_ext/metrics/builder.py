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
        KeyError: the name is not registered; the message lists the
            registered names.
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
        raise KeyError(f'unknown metric {name!r}; registered metrics: '
                       f'{", ".join(sorted(METRICS.module_dict))}')
    args = {k: v for k, v in cfg.items() if k != 'type'}
    return METRICS.get(name)(**args) if isinstance(name, str) else name(**args)
