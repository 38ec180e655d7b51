"""Checks of user input made before a run touches its ``work_dir``.

Each failure raises :class:`UserInputError` with one line that names the
file, key or value at fault; the tools print it instead of a traceback
from deep inside mmcv.
"""
import difflib
import inspect
import os.path as osp

from mmcv import Config

from ..utils import UserInputError, check_checkpoint  # noqa: F401


def load_config(path, cfg_options=None):
    """``Config.fromfile`` plus ``--cfg-options`` whose keys must exist.

    mmcv silently adds a mistyped key as a new one; here every key of
    ``cfg_options`` must already be in the config, except a new keyword
    of a registered constructor (a dict with ``type``, or ``policy`` for
    learning-rate and momentum hooks) that its signature accepts.
    """
    if not osp.isfile(path):
        raise UserInputError(f'config file {path} not found')
    try:
        cfg = Config.fromfile(path)
    except Exception as e:  # syntax errors, missing _base_ files, ...
        raise UserInputError(f'cannot read config {path}: {e}') from e
    for key in (cfg_options or {}):
        _check_key(cfg, key, path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def _check_key(cfg, key, path):
    node, done = cfg._cfg_dict, []
    for part in key.split('.'):
        is_list = isinstance(node, (list, tuple)) and part.isdigit()
        if is_list and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        elif part == key.split('.')[-1] and _accepts(node, part):
            return  # a new keyword argument of a registered type
        else:
            options = list(node.keys()) if isinstance(node, dict) else []
            options += _keywords(node)
            near = difflib.get_close_matches(part, options, n=1)
            hint = f'; did you mean {".".join(done + near)}?' if near else ''
            raise UserInputError(f'--cfg-options key {key!r} not in config '
                                 f'{path}{hint}')
        done.append(part)


def _registered_classes(node):
    """Classes a config dict may build: by ``type`` or lr/momentum
    ``policy``, looked up in the registries a run builds from."""
    if not isinstance(node, dict):
        return []
    name = node.get('type')
    if name is None and isinstance(node.get('policy'), str):
        policy = node['policy']
        policy = policy.title() if policy == policy.lower() else policy
        name = [policy + 'LrUpdaterHook', policy + 'MomentumUpdaterHook']
    if not isinstance(name, (str, list)):
        return []
    from mmcls.datasets import DATASETS, PIPELINES
    from mmcv.cnn import MODELS  # root of mmcls's and mmrazor's models
    from mmcv.runner import HOOKS, OPTIMIZERS, RUNNERS
    names = name if isinstance(name, list) else [name]
    found, todo = [], [MODELS, DATASETS, PIPELINES, HOOKS, OPTIMIZERS,
                       RUNNERS]
    while todo:
        registry = todo.pop()
        todo += registry.children.values()
        found += [registry.module_dict[n] for n in names
                  if n in registry.module_dict]
    return found


def _keywords(node, _all=True):
    """Keyword names the constructors of ``node`` accept (None: any)."""
    words = []
    for cls in _registered_classes(node):
        for klass in inspect.getmro(cls):
            if '__init__' not in vars(klass):
                continue
            params = inspect.signature(klass.__init__).parameters.values()
            words += [p.name for p in params if p.name != 'self' and
                      p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            if not any(p.kind == p.VAR_KEYWORD for p in params):
                break
        else:
            if not _all:
                return None
    return words


def _accepts(node, word):
    classes = _registered_classes(node)
    if not classes:
        return False
    words = _keywords(node, _all=False)
    return words is None or word in words


def check_data_paths(cfg):
    """Every ``data_prefix`` / ``ann_file`` of ``cfg.data.*`` exists."""
    for split in ('train', 'val', 'test'):
        ds = cfg.data.get(split)
        for sub in (ds.get('datasets', [ds]) if ds else []):
            sub = sub.get('dataset', sub)  # RepeatDataset and friends
            for key in ('data_prefix', 'ann_file'):
                value = sub.get(key)
                if value and not osp.exists(osp.expanduser(value)):
                    raise UserInputError(
                        f'data path not found: data.{split}.{key}={value}')
