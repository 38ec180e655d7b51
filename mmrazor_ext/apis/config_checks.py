"""Checks of user input made before a run touches its ``work_dir``.

Each failure raises :class:`UserInputError` with one line that names the
file, key or value at fault; the tools print it instead of a traceback
from deep inside mmcv.
"""
import difflib
import os.path as osp

import torch
from mmcv import Config


class UserInputError(Exception):
    """Bad input from the command line or a config file."""


def load_config(path, cfg_options=None):
    """``Config.fromfile`` plus ``--cfg-options`` whose keys must exist.

    mmcv silently adds a mistyped key as a new one; here every key of
    ``cfg_options`` must already be in the config, except new arguments
    inside a dict that has a ``type`` (a constructor's keyword).
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
        elif isinstance(node, dict) and 'type' in node and \
                part == key.split('.')[-1]:
            return  # a new keyword argument of a registered type
        else:
            options = list(node.keys()) if isinstance(node, dict) else []
            near = difflib.get_close_matches(part, options, n=1)
            hint = f'; did you mean {".".join(done + near)}?' if near else ''
            raise UserInputError(f'--cfg-options key {key!r} not in config '
                                 f'{path}{hint}')
        done.append(part)


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


def check_checkpoint(path, what):
    """The checkpoint exists and torch can read it."""
    if not osp.isfile(path):
        raise UserInputError(f'{what} checkpoint {path} not found')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=False)
    except Exception as e:
        raise UserInputError(f'{what} checkpoint {path} is corrupt or not a '
                             f'torch checkpoint ({type(e).__name__})') from e
    if not isinstance(ckpt, dict):
        raise UserInputError(f'{what} checkpoint {path} holds a '
                             f'{type(ckpt).__name__}, not a state dict')
    return ckpt
