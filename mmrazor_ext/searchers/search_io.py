"""The search JSON: what the search stage writes and the train stage reads.

Written atomically beside the checkpoint it was searched from::

    {"format": "mmrazor_ext.hybrid_search", "version": 1,
     "checkpoint": ..., "config": ..., "model": {"spaces": {name: channels},
     "flops": ..., "params": ..., "input_shape": [...]},
     "settings": {...}, "split": {...},
     "best": {"keep_ratios": {space: r}, "kept": {space: n},
              "subnet": {space: [indices]}, "flops": ..., "params": ...,
              "flops_ratio": ..., "search_top1": ...},
     "pareto": [...], "references": {"uniform": ..., "diff": ...},
     "history": [...], "evaluated": ..., "cache_hits": ..., ...}
"""
import json
import os.path as osp
from typing import Dict, List

from ..utils import UserInputError, write_json

FORMAT = 'mmrazor_ext.hybrid_search'
VERSION = 1
REQUIRED = ('checkpoint', 'model', 'settings', 'split', 'best', 'history')


def budget_tag(budget: dict) -> str:
    """The budget in a file name: ``0.5`` for a FLOPs budget alone (the
    names of old), else ``latency0.5``, ``flops0.7-latency0.5``."""
    if set(budget) == {'flops'}:
        return f'{budget["flops"]:g}'
    return '-'.join(f'{k}{v:g}' for k, v in budget.items())


def search_json_path(checkpoint: str, algorithm: str, budget) -> str:
    """``<checkpoint dir>/<checkpoint stem>_hybrid-search_<EA>_<budget>
    .json``: beside the checkpoint searched (the project record asks for
    it), one file per search setting (``budget``: a FLOPs fraction or a
    :func:`budget_tag`)."""
    stem = osp.splitext(osp.basename(checkpoint))[0]
    tag = budget if isinstance(budget, str) else f'{budget:g}'
    return osp.join(osp.dirname(osp.abspath(checkpoint)),
                    f'{stem}_hybrid-search_{algorithm}_{tag}.json')


def write_search_json(result: dict, path: str) -> None:
    """Write ``result`` (atomically) with the format header."""
    write_json(dict(format=FORMAT, version=VERSION, **result), path)


def read_search_json(path: str) -> dict:
    """Read and check the format of a search JSON; every problem is a
    one-line :class:`UserInputError` naming the file."""
    if not osp.isfile(path):
        raise UserInputError(f'search JSON {path} not found')
    try:
        with open(path) as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise UserInputError(f'search JSON {path} is corrupt ({e})') from e
    if not isinstance(data, dict) or data.get('format') != FORMAT:
        raise UserInputError(f'search JSON {path} is not a HybridSearch '
                             f'result (no "format": "{FORMAT}")')
    if data.get('version') != VERSION:
        raise UserInputError(f'search JSON {path} has version '
                             f'{data.get("version")}, expected {VERSION}')
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise UserInputError(f'search JSON {path} lacks {missing}')
    best = data['best']
    if not isinstance(best, dict) or not isinstance(best.get('subnet'),
                                                    dict):
        raise UserInputError(f'search JSON {path}: "best" has no subnet')
    return data


def subnet_for(data: dict, pruner, path: str) -> Dict[str, List[int]]:
    """The best subnet of a search JSON, checked against ``pruner``'s
    model: the same prunable spaces with the same channels, the same
    unpruned FLOPs (so the same input size), valid indices."""
    spaces = {sp.name: sp.num_channels for sp in pruner.prunable_spaces}
    theirs = data['model'].get('spaces', {})
    if theirs != spaces:
        raise UserInputError(
            f'search JSON {path} is from another model: '
            f'{_space_difference(theirs, spaces)}')
    flops = pruner.flops_params({})[0]
    theirs = data['model'].get('flops')
    if theirs != flops:
        raise UserInputError(
            f'search JSON {path} is from another model: {theirs} FLOPs '
            f'unpruned, this model {flops} (another input size?)')
    subnet = data['best']['subnet']
    try:
        pruner.keep_vector(subnet)
    except (TypeError, ValueError, KeyError, IndexError) as e:
        raise UserInputError(f'search JSON {path}: best subnet: {e}') from e
    _check_kept(data['best'], subnet, spaces, path)
    return subnet


def _space_difference(theirs: dict, ours: dict) -> str:
    """The first difference of two ``{space: channels}``, saying whose
    value is which."""
    for name in list(ours) + list(theirs):
        if name not in theirs:
            return f'this model has channel space {name} ({ours[name]} ' \
                'channels), the JSON does not'
        if name not in ours:
            return f'the JSON has channel space {name} ({theirs[name]} ' \
                'channels), this model does not'
        if theirs[name] != ours[name]:
            return f'channel space {name} has {theirs[name]} channels in ' \
                f'the JSON, {ours[name]} in this model'
    return 'its channel spaces differ'


def _check_kept(best: dict, subnet: dict, spaces: dict, path: str) -> None:
    """``best.kept`` (channels kept per space, in the order of
    ``model.spaces``) agrees with ``best.subnet`` and fits each space: a
    JSON edited by hand must not train silently on something else."""
    kept = best.get('kept')
    if kept is None:
        return
    names = list(spaces)
    if not isinstance(kept, list) or len(kept) != len(names):
        raise UserInputError(f'search JSON {path}: best.kept must list the '
                             f'channels kept in each of the {len(names)} '
                             'channel spaces')
    for name, n in zip(names, kept):
        given = len(subnet.get(name, range(spaces[name])))
        if n != given or n > spaces[name]:
            raise UserInputError(
                f'search JSON {path}: best.kept says {n} channels of '
                f'{name} ({spaces[name]} in the space), best.subnet keeps '
                f'{given}')
