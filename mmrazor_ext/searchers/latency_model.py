"""The searcher's latency model: its settings, the table (from the cache,
or measured and validated on rank 0 and shared with every rank), and the
check that a latency budget can be met."""
import os.path as osp
from typing import Optional

from mmcv.utils import print_log

from ..utils import UserInputError, broadcast_object, rank
from .latency_layers import layer_specs, needed_keys
from .latency_measure import check_runtime, measure_table, validate
from .latency_table import (LatencyTable, cached_table, model_fingerprint,
                            table_key, write_cache)

#: ``searcher.latency`` defaults
DEFAULTS = dict(runtime='onnxruntime', threads=1, batch=1, cache=None,
                runs=10, validate=20, validate_time=0.3, seed=0,
                tries=3)


def _say(msg: str) -> None:
    print_log(f'HybridSearch: {msg}', logger='mmcls')


def check_latency_settings(latency: Optional[dict]) -> Optional[dict]:
    """``latency`` with its defaults, checked (one line per problem); None
    stays None."""
    if latency is None:
        return None
    if not isinstance(latency, dict):
        raise UserInputError(f'searcher latency={latency!r} must be a dict '
                             "such as dict(runtime='onnxruntime', "
                             'threads=1, batch=1)')
    unknown = sorted(set(latency) - set(DEFAULTS))
    if unknown:
        raise UserInputError(f'searcher latency has unknown keys {unknown} '
                             f'(known: {", ".join(DEFAULTS)})')
    out = dict(DEFAULTS, **latency)
    for key, least in (('threads', 1), ('batch', 1), ('runs', 3),
                       ('validate', 0), ('tries', 1)):
        v = out[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < least:
            raise UserInputError(f'searcher latency.{key}={v!r} must be an '
                                 f'integer >= {least}')
    try:
        check_runtime(out['runtime'])
    except UserInputError as e:
        raise UserInputError(f'searcher latency.runtime: {e}') from e
    return out


def default_cache(checkpoint: str) -> str:
    """``<checkpoint dir>/<checkpoint stem>_latency_table.json``: beside
    the checkpoint, with its search JSONs."""
    stem = osp.splitext(osp.basename(checkpoint))[0]
    return osp.join(osp.dirname(osp.abspath(checkpoint)),
                    f'{stem}_latency_table.json')


def load_latency_table(pruner, space, cfg: dict, cache: str
                       ) -> LatencyTable:
    """The table of ``space``'s candidates on ``cfg``'s runtime: cached
    when this machine measured it, else measured (and validated on
    ``cfg['validate']`` random candidates) and cached, on rank 0."""
    specs, other = layer_specs(pruner)
    if other:
        _say(f'{len(other)} layers are not priced by the latency table '
             f'(their time stays in the constant): {", ".join(other[:3])}')
    widths = {n: sorted(set(int(v) for v in row))
              for n, row in zip(space.names, space.table)}
    needed = needed_keys(specs, widths, pruner.prunable_spaces)
    key = table_key(cfg['runtime'], cfg['threads'], cfg['batch'],
                    pruner.input_shape, model_fingerprint(
                        specs, space.block_names, pruner.input_shape))
    data = None
    if rank() == 0:
        data = cached_table(cache, key, needed)
        if data is not None:
            data = dict(data, from_cache=True)
            _say(f'latency table from the cache {cache} (measured '
                 f'{data.get("measured_at")}, {len(data["entries"])} '
                 'entries)')
        else:
            data = measure_table(pruner, space, specs, needed,
                                 cfg['runtime'], cfg['threads'],
                                 cfg['batch'], cfg['runs'], cfg['seed'],
                                 cfg['validate_time'], log=_say)
            if cfg['validate']:
                data['validation'] = validate(
                    LatencyTable(data, specs), pruner, space,
                    cfg['validate'], cfg['seed'], cfg['validate_time'],
                    log=_say)
            write_cache(cache, key, data)
        data['cache'] = osp.abspath(cache)
    table = LatencyTable(broadcast_object(data), specs)
    v = table.data.get('validation')
    errors = (f'; predicted vs measured on {v["candidates"]} random '
              f'candidates: median relative error '
              f'{v["median_relative_error"]:.1%}, max '
              f'{v["max_relative_error"]:.1%}') if v else ''
    _say(f'latency table: {len(table.entries)} entries on '
         f'{cfg["runtime"]} ({cfg["threads"]} thread(s), batch '
         f'{cfg["batch"]}), unpruned {table.unpruned_ms:.3f} ms, constant '
         f'{table.constant:.3f} ms{errors}')
    return table


def smallest_latency(pool, space) -> dict:
    """The record of the smallest candidate: the smallest keep ratio
    everywhere and every removable block removed."""
    genome = space.uniform_genome(0, space.block_names)
    return pool.record(space.kept(genome), space.removed(genome), genome)


def check_latency_budget(budget: float, pool, space, runtime: str) -> None:
    """One line when no candidate can meet ``budget`` (the smallest
    reachable latency named)."""
    small = smallest_latency(pool, space)
    if small['latency_ratio'] > budget:
        blocks = (f', all {len(space.blocks)} removable blocks removed'
                  if space.blocks else '')
        raise UserInputError(
            f'searcher budget latency={budget:g} cannot be met: the '
            f'smallest candidate (keep ratio {space.choices[0]:g} '
            f'everywhere{blocks}) is predicted at '
            f'{small["latency_ms"]:.3f} ms on {runtime}, '
            f'{small["latency_ratio"]:.1%} of the unpruned model\'s '
            f'{pool.latency.unpruned_ms:.3f} ms')
