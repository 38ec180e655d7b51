"""Subnets as JSON files and their check against a model's spaces.

File format::

    {"format": "mmrazor_ext.subnet/1",
     "num_channels": {"backbone.conv1": 64, ...},
     "subnet": {"backbone.conv1": [0, 3, 5, ...], ...},
     "keep_whole": ["head.fc", ...]}

``subnet`` maps each space name to its sorted kept channel (unit) indices;
``num_channels`` lets a subnet from another model be told apart;
``keep_whole`` (optional) states which prunable spaces are left out of
``subnet`` on purpose (they keep all their channels): a list of names, or
``"all_others"``. A file that leaves spaces out without saying so loads
with a warning naming them; an empty one is refused.
"""
import json
from numbers import Integral
from typing import Dict, List, NamedTuple, Optional, Union

from torch import Tensor

from ...utils import write_json

FORMAT = 'mmrazor_ext.subnet/1'
ALL_OTHERS = 'all_others'
FIELDS = ('format', 'num_channels', 'subnet', 'keep_whole')


class SubnetFile(NamedTuple):
    """What a subnet file holds, checked for form but not against a
    model."""
    subnet: Dict[str, List[int]]
    num_channels: Dict[str, int]
    keep_whole: Union[None, str, List[str]]


def save_subnet(subnet: Dict[str, List[int]], path: str,
                num_channels: Optional[Dict[str, int]] = None) -> None:
    """Write atomically (:func:`mmrazor_ext.utils.write_json`).

    Spaces of ``num_channels`` missing from ``subnet`` are written as
    ``keep_whole``; without ``num_channels`` that is ``"all_others"``
    (a subnet in memory keeps the spaces it leaves out whole).
    """
    data = {'format': FORMAT, 'num_channels': dict(num_channels or {}),
            'subnet': {k: [int(i) for i in v] for k, v in subnet.items()}}
    if num_channels is None:
        data['keep_whole'] = ALL_OTHERS
    else:
        left = [n for n in num_channels if n not in subnet]
        if left:
            data['keep_whole'] = left
    write_json(data, path)


def load_subnet(path: str) -> SubnetFile:
    """Read a subnet file (a bare ``{space: indices}`` JSON dict is
    accepted too) and check its form: indices are integers listed once.

    Raises:
        ValueError: naming what is wrong (an unknown ``format``, a field,
            a space's indices).
    """
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError(f'not a subnet file: a JSON {type(data).__name__}, '
                         'not an object')
    if 'format' in data or 'subnet' in data:
        if data.get('format') != FORMAT:
            raise ValueError(
                f'unknown subnet file format {data["format"]!r} (this '
                f'version reads {FORMAT!r})' if 'format' in data else
                f'no "format" field (expected {FORMAT!r})')
        unknown = [k for k in data if k not in FIELDS]
        if unknown:
            raise ValueError(f'unknown field {unknown[0]!r} (a subnet file '
                             f'has {", ".join(FIELDS)})')
        if 'subnet' not in data:
            raise ValueError('no "subnet" field')
        subnet, num_channels = data['subnet'], data.get('num_channels', {})
        keep_whole = data.get('keep_whole')
    else:  # bare {space: indices}
        subnet = dict(data)
        keep_whole = subnet.pop('keep_whole', None)
        num_channels = {}
    if not isinstance(subnet, dict):
        raise ValueError('"subnet" must be an object {space: indices}')
    if not isinstance(num_channels, dict) or not all(
            _is_int(n) for n in num_channels.values()):
        raise ValueError('"num_channels" must be an object {space: int}')
    for name, idx in subnet.items():
        if not isinstance(idx, list):
            raise ValueError(f'subnet space {name!r}: indices must be a '
                             f'list, got {json.dumps(idx)[:40]}')
        bad = [i for i in idx if not _is_int(i)]
        if bad:
            raise ValueError(f'subnet space {name!r}: indices must be '
                             f'integers, got {json.dumps(bad[0])}')
        seen = set()
        for i in idx:
            if i in seen:
                raise ValueError(f'subnet space {name!r} lists index {i} '
                                 'more than once')
            seen.add(i)
    if not (keep_whole is None or keep_whole == ALL_OTHERS or (
            isinstance(keep_whole, list)
            and all(isinstance(n, str) for n in keep_whole))):
        raise ValueError(f'"keep_whole" must be a list of space names or '
                         f'"{ALL_OTHERS}", got {json.dumps(keep_whole)[:40]}')
    return SubnetFile(subnet, num_channels, keep_whole)


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


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
        if isinstance(idx, Tensor):
            if idx.is_floating_point():
                raise ValueError(f'subnet space {name!r}: indices must be '
                                 f'integers, got a {idx.dtype} tensor')
            idx = idx.flatten().tolist()
        bad = [i for i in idx if not _is_int(i)]
        if bad:
            raise ValueError(f'subnet space {name!r}: indices must be '
                             f'integers, got {bad[0]!r}')
        idx = sorted({int(i) for i in idx})
        if not idx:
            raise ValueError(f'subnet space {name!r} keeps no channel')
        if idx[0] < 0 or idx[-1] >= n:
            raise ValueError(f'subnet space {name!r} has indices outside '
                             f'[0, {n}): {idx[0]}..{idx[-1]}')
        out[name] = idx
    return out


def spaces_left_out(subnet: Dict[str, List[int]],
                    num_channels: Dict[str, int],
                    keep_whole: Union[None, str, List[str]]) -> List[str]:
    """The prunable spaces a subnet file leaves out without stating them
    in ``keep_whole`` (they keep all their channels; the caller warns).

    Raises:
        ValueError: an empty subnet without ``keep_whole``; a
            ``keep_whole`` naming a space that is not prunable here or that
            ``subnet`` prunes.
    """
    missing = [n for n in num_channels if n not in subnet]
    if keep_whole == ALL_OTHERS:
        return []
    if keep_whole is None:
        if missing and not subnet:
            raise ValueError(
                f'the subnet is empty: it would keep all channels of the '
                f'{len(missing)} prunable spaces; write "keep_whole": '
                f'"{ALL_OTHERS}" to mean that')
        return missing
    for name in keep_whole:
        if name not in num_channels:
            raise ValueError(f'"keep_whole" names {name!r}, which is not a '
                             'prunable space of this model')
        if name in subnet:
            raise ValueError(f'space {name!r} is both in "subnet" and in '
                             '"keep_whole"')
    return [n for n in missing if n not in keep_whole]
