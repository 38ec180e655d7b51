"""Subnets as JSON files and their check against a model's spaces.

File format::

    {"format": "mmrazor_ext.subnet/1",
     "num_channels": {"backbone.conv1": 64, ...},
     "subnet": {"backbone.conv1": [0, 3, 5, ...], ...}}

``subnet`` maps each space name to its sorted kept channel (unit) indices;
``num_channels`` lets a subnet from another model be told apart.
"""
import json
from typing import Dict, List, Optional

from ..utils import write_json

FORMAT = 'mmrazor_ext.subnet/1'


def save_subnet(subnet: Dict[str, List[int]], path: str,
                num_channels: Optional[Dict[str, int]] = None) -> None:
    """Write atomically (:func:`mmrazor_ext.utils.write_json`)."""
    data = {'format': FORMAT, 'num_channels': dict(num_channels or {}),
            'subnet': {k: [int(i) for i in v] for k, v in subnet.items()}}
    write_json(data, path)


def load_subnet(path: str):
    """Read a subnet file: ``(subnet, num_channels)``; a bare
    ``{space: indices}`` JSON dict is accepted too."""
    with open(path) as f:
        data = json.load(f)
    if isinstance(data, dict) and data.get('format') == FORMAT:
        return data['subnet'], data.get('num_channels', {})
    if isinstance(data, dict):
        return data, {}
    raise ValueError(f'{path}: not a subnet file')


def check_subnet(
        subnet, num_channels: Dict[str, int],
        declared: Optional[Dict[str, int]] = None) -> Dict[str, List[int]]:
    """Validate ``subnet`` against the prunable spaces ``num_channels``.

    Returns the subnet with sorted, deduplicated indices; spaces missing from
    it keep all channels.

    Raises:
        ValueError: naming the first space that does not match.
    """
    if not isinstance(subnet, dict):
        raise TypeError(f'subnet must be a dict {{space: indices}}, got '
                        f'{type(subnet).__name__}')
    for name, n in (declared or {}).items():
        if name in num_channels and num_channels[name] != n:
            raise ValueError(f'subnet space {name!r} has {n} channels but '
                             f'the model has {num_channels[name]}: the '
                             'subnet belongs to another model')
    out = {}
    for name, idx in subnet.items():
        if name not in num_channels:
            raise ValueError(f'subnet space {name!r} is not a prunable '
                             'space of this model (subnet of another '
                             f'model?); known spaces: '
                             f'{", ".join(list(num_channels)[:5])}...')
        n = num_channels[name]
        idx = sorted({int(i) for i in idx})
        if not idx:
            raise ValueError(f'subnet space {name!r} keeps no channel')
        if idx[0] < 0 or idx[-1] >= n:
            raise ValueError(f'subnet space {name!r} has indices outside '
                             f'[0, {n}): {idx[0]}..{idx[-1]}')
        out[name] = idx
    return out
