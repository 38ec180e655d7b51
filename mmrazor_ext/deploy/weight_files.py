"""Model files without pickled code: a state dict plus what rebuilds the
structure, readable with ``torch.load(path, weights_only=True)``.

``pruned_model.pth``, ``fused_model.pth`` and ``deploy_model.pth`` hold::

    {'format': 'mmrazor_ext.model', 'version': 1,
     'kind': 'pruned' | 'fused' | 'deploy',
     'bn_folded': bool,           # BatchNorms folded into their convs
     'config': str | None,        # the run's config (mmcv pretty text)
     'structure': {name: tensor}, # the algorithm's subnet / fusion record
     'input_shape': [C, H, W],
     'state_dict': {name: tensor}}

``structure`` is what the algorithm's checkpoints carry (``pruned_keep``,
``pruned_exported``, ``fusion_removed``, ``fusion_linear``...):
``mmrazor_ext.apis.load_pruned(config, file)`` builds the algorithm from
the config, gives it that structure, exports and loads the weights.
"""
from typing import Optional, Sequence

import torch
from torch import nn

from ..utils import UserInputError, atomic_write

FORMAT = 'mmrazor_ext.model'
VERSION = 1
KINDS = ('pruned', 'fused', 'deploy')


def structure_of(algorithm: nn.Module) -> dict:
    """The algorithm's own buffers (not its model's): the structure its
    state dict carries."""
    return {k: v.detach().cpu().clone()
            for k, v in algorithm.named_buffers(recurse=False)}


def save_model_file(path: str, model: nn.Module, structure: dict,
                    kind: str, input_shape: Sequence[int],
                    config: Optional[str] = None, bn_folded: bool = False,
                    pickled: bool = False) -> None:
    """Write ``model`` as a weights-only model file (atomically).

    Args:
        path: The ``.pth`` file.
        model: The exported (physically pruned / fused) model.
        structure: :func:`structure_of` the algorithm.
        kind: ``'pruned'``, ``'fused'`` or ``'deploy'``.
        input_shape: ``(C, H, W)`` the model was traced with.
        config: The run's config text (``runner.meta['config']``).
        bn_folded: Whether BatchNorms were folded into ``model``.
        pickled: Write ``torch.save(model)`` instead: the whole module,
            pickled (needs ``weights_only=False`` and this package's code
            to load).
    """
    if kind not in KINDS:
        raise ValueError(f'kind {kind!r} is not one of {KINDS}')
    if pickled:
        atomic_write(path, lambda tmp: torch.save(model, tmp))
        return
    payload = dict(format=FORMAT, version=VERSION, kind=kind,
                   bn_folded=bool(bn_folded), config=config,
                   structure={k: v.detach().cpu() for k, v in
                              structure.items()},
                   input_shape=[int(s) for s in input_shape],
                   state_dict={k: v.detach().cpu() for k, v in
                               model.state_dict().items()})
    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def is_model_file(obj) -> bool:
    """``obj`` (what ``torch.load`` returned) is a model file's payload."""
    return isinstance(obj, dict) and obj.get('format') == FORMAT


def read_model_file(path: str) -> dict:
    """The payload of a model file, loaded with ``weights_only=True``; a
    one-line :class:`UserInputError` for a missing file, a pickled module
    or anything else."""
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except FileNotFoundError as e:
        raise UserInputError(f'model file {path} not found') from e
    except Exception as e:  # noqa: BLE001  unpickling refused or corrupt
        raise UserInputError(
            f'model file {path} does not load with weights_only=True (a '
            'pickled module, written by an older version or with '
            f'pickled=True?): {type(e).__name__}') from e
    if not is_model_file(obj):
        raise UserInputError(f'{path} is not a model file of this package '
                             f'(no "format": "{FORMAT}")')
    if obj.get('version', 0) > VERSION:
        raise UserInputError(f'model file {path} has version '
                             f'{obj["version"]}; this package reads '
                             f'{VERSION}')
    return obj
