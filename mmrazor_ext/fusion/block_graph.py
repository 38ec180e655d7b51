"""The residual blocks a model can lose: each one's shortcut, its output
activation, shapes and FLOPs, in forward order.

A removable block computes ``act(branch(x) + shortcut(x))`` where the
shortcut is the identity or a downsample branch of its own: mmcls /
torchvision ``BasicBlock`` and ``Bottleneck`` (also this package's
``CifarResNet``), and inverted residuals whose ``use_res_connect`` is set
(MobileNetV2). Order, shapes and FLOPs come from one traced forward pass.
"""
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

from torch import nn

from ..adapters import residual_blocks
from ..utils import UserInputError
from .tracing import trace_layers


@dataclass
class BlockInfo:
    """One residual block of the traced model."""
    name: str
    kind: str  # 'resnet' (act(branch + shortcut)) or 'inverted' (x + branch)
    shortcut: Optional[str]  # downsample module name; None: identity
    in_shape: Tuple[int, ...]
    out_shape: Tuple[int, ...]
    flops: int  # FLOPs per sample of the block
    shortcut_flops: int  # what its replacement still costs

    @property
    def transition(self) -> bool:
        """Changes the shape (its shortcut is a downsample branch)."""
        return self.shortcut is not None


def _kind(module: nn.Module) -> Optional[str]:
    if getattr(module, 'use_res_connect', None) is True and \
            hasattr(module, 'conv'):
        return 'inverted'
    if hasattr(module, 'downsample') and hasattr(module, 'relu'):
        return 'resnet'
    return None


def find_blocks(model: nn.Module, input_shape, forward_fn: Optional[
        Callable] = None) -> List[BlockInfo]:
    """The removable residual blocks of ``model``, in forward order.

    Raises:
        UserInputError: ``model`` has no removable residual block (the
            message names what is missing).
    """
    modules = dict(model.named_modules())
    names = [n for n in residual_blocks(model) if _kind(modules[n])]
    names += [n for n, m in modules.items()
              if _kind(m) == 'inverted' and n not in names]
    if not names:
        kinds = sorted({type(m).__name__ for m in modules.values()
                        if hasattr(m, 'use_res_connect')})
        extra = (f' (its {", ".join(kinds)} blocks have no identity '
                 'shortcut)' if kinds else '')
        raise UserInputError(
            f'{type(model).__name__} has no removable residual block: '
            'Fusion needs BasicBlock / Bottleneck blocks with a `downsample` '
            'shortcut and a `relu`, or inverted residuals with '
            f'use_res_connect{extra}')
    seen = {}  # name -> (in_shape, out_shape), in call order

    def hook(name):
        def record(module, args, out):
            seen.setdefault(name, (tuple(args[0].shape), tuple(out.shape)))
        return record

    handles = [modules[n].register_forward_hook(hook(n)) for n in names]
    try:
        trace = trace_layers(model, input_shape, forward_fn)
    finally:
        for h in handles:
            h.remove()
    blocks = []
    for n, (in_shape, out_shape) in seen.items():
        short = None
        if _kind(modules[n]) == 'resnet' and \
                modules[n].downsample is not None:
            short = f'{n}.downsample'
        if short is None and in_shape != out_shape:
            continue  # no identity to fall back to
        blocks.append(BlockInfo(
            n, _kind(modules[n]), short, in_shape[1:], out_shape[1:],
            trace.flops(n), trace.flops(short) if short else 0))
    return blocks
