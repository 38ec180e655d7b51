"""The latency model of a search: a lookup table of per-layer latencies on
the target runtime, measured once (``latency_measure.py``), cached on
disk, and a candidate's predicted latency = the sum of its entries + a
measured constant.

The cache is one JSON file holding tables keyed by runtime, threads,
batch, input shape and model; each table records the machine it was
measured on. A table from another machine, or none for this runtime, is
measured again (an INFO line says why), never used silently.
"""
import hashlib
import json
import logging
import os
import os.path as osp
import platform
from typing import Dict, List, Optional, Sequence

from mmcv.utils import print_log

from ..utils import UserInputError, write_json
from .latency_layers import LayerSpec, entry_keys, live, parse_key

FORMAT = 'mmrazor_ext.latency_table'
VERSION = 1


def machine() -> dict:
    """What identifies the machine a table was measured on."""
    cpu = platform.processor() or ''
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next((line.split(':', 1)[1].strip() for line in f
                        if line.startswith('model name')), cpu)
    except OSError:
        pass
    out = dict(host=platform.node(), cpu=cpu, cpus=os.cpu_count(),
               system=platform.system())
    try:
        import onnxruntime
        out['onnxruntime'] = onnxruntime.__version__
    except ImportError:
        pass
    import torch
    out['torch'] = torch.__version__
    return out


def model_fingerprint(specs: Sequence[LayerSpec], blocks: Sequence[str],
                      input_shape) -> str:
    """A hash of what the table prices: every layer's geometry and full
    widths, the removable blocks and the input shape."""
    text = json.dumps([[s.name, s.kind, list(s.geometry), s.in_channels,
                        s.out_channels, s.groups] for s in specs] +
                      [list(blocks), list(input_shape)])
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def table_key(runtime: str, threads: int, batch: int, input_shape,
              fingerprint: str) -> str:
    shape = 'x'.join(str(int(v)) for v in input_shape)
    return f'{runtime}/threads{threads}/batch{batch}/{shape}/{fingerprint}'


class LatencyTable:
    """Entries (ms) of a model's layers at every width the search may give
    them, the constant, and how well they predicted measured latency.

    Args:
        data (dict): The table as stored (see :meth:`as_dict`): ``entries``
            ``{key: ms}``, ``constant_ms``, ``unpruned_ms`` (measured),
            ``runtime``, ``threads``, ``batch``, ``machine``, ``validation``.
        specs (list[LayerSpec]): The model's priced layers.
    """

    def __init__(self, data: dict, specs: Sequence[LayerSpec]):
        self.data, self.specs = data, list(specs)
        self.entries: Dict[str, float] = data['entries']
        self.constant = float(data['constant_ms'])
        self.estimated = 0  # entries priced by scaling (not in the table)

    @property
    def unpruned_ms(self) -> float:
        """The unpruned model's measured latency (budgets are fractions
        of it)."""
        return float(self.data['unpruned_ms'])

    def entry(self, spec: LayerSpec, key: str) -> float:
        if key in self.entries:
            return self.entries[key]
        # a width the table did not foresee (a side that is not one whole
        # space): the full-width entry scaled by the multiply-accumulates
        self.estimated += 1
        full = spec.key(spec.in_channels, spec.out_channels)
        p, q = parse_key(key), parse_key(full)
        scale = (p['ci'] * p['co']) / max(q['ci'] * q['co'], 1)
        return self.entries[full] * scale

    def breakdown(self, keep, removed: Sequence[str] = ()) -> List[tuple]:
        """``(layer, entry key, ms)`` of each layer a candidate runs."""
        layers = live(self.specs, removed)
        keys = entry_keys(layers, keep)
        return [(s.name, k, self.entry(s, k)) for s, k in zip(layers, keys)]

    def predict(self, keep, removed: Sequence[str] = ()) -> float:
        """Predicted latency (ms) of the candidate with keep vector
        ``keep`` and blocks ``removed``: its entries' sum + the constant."""
        return sum(ms for _, _, ms in self.breakdown(keep, removed)) + \
            self.constant

    def summary(self) -> dict:
        """What the search JSON states about the latency model."""
        d = self.data
        return dict(runtime=d['runtime'], threads=d['threads'],
                    batch=d['batch'], input_shape=d['input_shape'],
                    entries=len(self.entries),
                    constant_ms=round(self.constant, 4),
                    scale=d.get('scale'), unpruned_ms=d['unpruned_ms'],
                    machine=d['machine'], measured_at=d.get('measured_at'),
                    load_average=d.get('load_average'),
                    seconds=d.get('seconds'), cache=d.get('cache'),
                    from_cache=d.get('from_cache', False),
                    calibration=d.get('calibration'),
                    validation=d.get('validation'))

    def as_dict(self) -> dict:
        return dict(self.data)


# ------------------------------------------------------------ cache
def read_cache(path: str) -> dict:
    """The tables of a cache file (``{}`` when there is none); a file that
    is not a cache is one line."""
    if not osp.isfile(path):
        return {}
    try:
        with open(path) as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise UserInputError(f'latency table cache {path} is corrupt ({e}): '
                             'delete it to measure again') from e
    if not isinstance(data, dict) or data.get('format') != FORMAT:
        raise UserInputError(f'latency table cache {path} is not a latency '
                             f'table file (no "format": "{FORMAT}")')
    return data.get('tables', {})


def write_cache(path: str, key: str, table: dict) -> None:
    """Add (or replace) ``table`` under ``key`` in the cache file."""
    tables = read_cache(path)
    tables[key] = {k: v for k, v in table.items()
                   if k not in ('cache', 'from_cache')}
    write_json(dict(format=FORMAT, version=VERSION, tables=tables), path)


def _say(msg: str, level=logging.INFO) -> None:
    print_log(f'HybridSearch: {msg}', logger='mmcls', level=level)


def cached_table(path: str, key: str, needed: Sequence[str]
                 ) -> Optional[dict]:
    """The cached table of ``key`` when it was measured on this machine
    and holds every entry in ``needed``; otherwise None, with an INFO line
    saying why it is measured again."""
    tables = read_cache(path)
    table = tables.get(key)
    here = machine()
    if table is None:
        same_model = [k for k in tables
                      if k.split('/')[-1] == key.split('/')[-1]]
        if same_model:
            _say(f'latency table cache {path} holds tables for '
                 f'{", ".join(k.rsplit("/", 2)[0] for k in same_model)}, '
                 f'none for {key.rsplit("/", 2)[0]}: measuring this runtime')
        return None
    theirs = table.get('machine', {})
    diff = [f'{k} {theirs.get(k)!r} (here {v!r})' for k, v in here.items()
            if theirs.get(k) != v]
    if diff:
        _say(f'latency table cache {path} was measured on another machine '
             f'or runtime version ({"; ".join(diff)}): measuring again')
        return None
    missing = [k for k in needed if k not in table['entries']]
    if missing:
        _say(f'latency table cache {path} lacks {len(missing)} of the '
             f'{len(needed)} entries this search needs (other keep ratios?)'
             ': measuring again')
        return None
    return table
