"""A checkpoint file that exists and that torch can read."""
import os.path as osp

import torch

from .errors import UserInputError


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
