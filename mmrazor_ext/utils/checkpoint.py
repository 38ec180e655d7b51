"""A checkpoint file that exists and that torch can read."""
import os.path as osp
import pickle
import warnings

import torch

from .errors import UserInputError
from .url_checkpoint import is_url, load_url_checkpoint


def load_weights_only(path, what):
    """``torch.load(path, weights_only=True)``; None when the file pickles
    objects other than tensors and plain data (the unpickler refuses
    them), a one-line :class:`UserInputError` when it is not a torch file
    at all."""
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError:
        return None
    except Exception as e:
        raise UserInputError(f'{what} checkpoint {path} is corrupt or not a '
                             f'torch checkpoint ({type(e).__name__})') from e


def check_checkpoint(path, what):
    """The checkpoint exists and torch can read it (an ``http(s)://`` URL:
    it downloads, once, see :mod:`.url_checkpoint`)."""
    if is_url(path):
        return load_url_checkpoint(path, what)
    if not osp.isfile(path):
        raise UserInputError(f'{what} checkpoint {path} not found')
    ckpt = load_weights_only(path, what)
    if ckpt is None:  # pickles more than tensors and plain data
        try:
            ckpt = torch.load(path, map_location='cpu', weights_only=False)
        except Exception as e:
            raise UserInputError(f'{what} checkpoint {path} is corrupt or '
                                 f'not a torch checkpoint '
                                 f'({type(e).__name__})') from e
        warnings.warn(f'{what} checkpoint {path} does not load with '
                      'weights_only=True (it pickles objects); loaded '
                      'trusting its source')
    if not isinstance(ckpt, dict):
        raise UserInputError(f'{what} checkpoint {path} holds a '
                             f'{type(ckpt).__name__}, not a state dict')
    return ckpt


def state_dict_mismatch(own, state):
    """How ``state`` (a checkpoint's weights) differs from ``own`` (a
    model's ``state_dict()``), naming the first differing keys: shapes
    first, then missing, then unexpected keys; None when they fit."""
    shapes = [f'{k} {tuple(getattr(v, "shape", ()))} vs '
              f'{tuple(own[k].shape)}' for k, v in state.items()
              if k in own and
              tuple(getattr(v, 'shape', ())) != tuple(own[k].shape)]
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    if shapes:
        return f'shapes differ: {shapes[0]}' + (
            f' and {len(shapes) - 1} more' if len(shapes) > 1 else '')
    if missing:
        return f'missing keys: {missing[:3]}' + (
            f' and {len(missing) - 3} more' if len(missing) > 3 else '')
    if extra:
        return f'unexpected keys: {extra[:3]}' + (
            f' and {len(extra) - 3} more' if len(extra) > 3 else '')
    return None
