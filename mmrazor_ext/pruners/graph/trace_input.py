"""What the tracer feeds the model: dtype, device and user-given inputs.

- The dummy input takes the dtype and device of the model's parameters
  (float64 models are traced in float64, models on a GPU on that GPU).
- Half / bfloat16 models are traced in float32: their floating tensors
  are cast up in place for the trace and cast back afterwards (exact,
  since every half value is a float32 value); the channel probes need
  more than the 11 bits of a half to tell position 2049 from 2050.
- Autograd nodes on another device are probed from the CPU
  (:class:`CpuProbe`), so channel ids and positions stay on the CPU.
- ``forward_fn`` / ``example_input`` may be given as callables or, from a
  config file, as import paths ``'package.module:name'``.
"""
import importlib
from contextlib import contextmanager
from itertools import chain
from typing import Callable, NamedTuple, Optional, Sequence

import torch
from torch import Tensor, nn

from ...compat.private_apis import input_metadata
from ...utils import UserInputError

_LOW = (torch.float16, torch.bfloat16)


def resolve_callable(spec, key: str) -> Optional[Callable]:
    """``spec`` as a callable: itself, or the object an import path
    ``'pkg.module:name'`` (or ``'pkg.module.name'``) names.

    Raises:
        UserInputError: naming ``key`` and the value, when the path does
            not import or does not name a callable.
    """
    if spec is None or callable(spec):
        return spec
    if not isinstance(spec, str):
        raise UserInputError(f'{key} must be a callable or an import path '
                             f"'package.module:name', got {spec!r}")
    mod, sep, name = spec.partition(':')
    if not sep:
        mod, _, name = spec.rpartition('.')
    try:
        obj = getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError, ValueError) as e:
        raise UserInputError(f'{key}={spec!r} cannot be imported: {e}')
    if not callable(obj):
        raise UserInputError(f'{key}={spec!r} is not callable')
    return obj


def reference_tensor(model: nn.Module) -> Optional[Tensor]:
    """The model's first floating parameter (or buffer), if any."""
    for t in chain(model.parameters(), model.buffers()):
        if t.is_floating_point():
            return t
    return None


def trace_dtype(model: nn.Module) -> torch.dtype:
    ref = reference_tensor(model)
    if ref is None:
        return torch.get_default_dtype()
    return torch.float32 if ref.dtype in _LOW else ref.dtype


def dummy_input(model: nn.Module, input_shape: Sequence[int],
                batch_size: int, example_input=None) -> Tensor:
    """A leaf tensor that requires grad, on the model's device, in the
    dtype it is traced in: ``example_input`` (a tensor or a callable
    returning one; a batch of 1 is repeated to 2) or random
    ``(batch_size, *input_shape)``."""
    ref = reference_tensor(model)
    device = ref.device if ref is not None else torch.device('cpu')
    dtype = trace_dtype(model)
    if example_input is None:
        x = torch.randn(batch_size, *input_shape, device=device, dtype=dtype)
    else:
        x = example_input() if callable(example_input) else example_input
        if not isinstance(x, Tensor) or not x.is_floating_point() or \
                x.dim() < 2:
            raise UserInputError(
                'example_input must be (or return) a floating tensor with a '
                f'batch dim and a channel dim, got '
                f'{type(x).__name__} {getattr(x, "shape", "")}')
        x = x.detach().to(device=device, dtype=dtype)
        if x.shape[0] < 2:
            x = torch.cat([x, x])
    return x.requires_grad_(True)


@contextmanager
def traced_in_float32(model: nn.Module):
    """Half / bfloat16 parameters and buffers as float32 for the block."""
    low = [(t, t.dtype) for t in chain(model.parameters(), model.buffers())
           if t.dtype in _LOW]
    for t, _ in low:
        t.data = t.data.float()
    try:
        yield
    finally:
        for t, dtype in low:
            t.data = t.data.to(dtype)


class _Meta(NamedTuple):
    shape: tuple
    dtype: torch.dtype
    device: torch.device


class CpuProbe:
    """An autograd node on another device, probed with CPU gradients: the
    gradients go to the node's device and its results come back."""

    def __init__(self, node):
        self._node = node
        meta = input_metadata(node)
        self._device = meta[0].device
        # read back by input_metadata(), like a node's own
        self._input_metadata = [_Meta(tuple(m.shape), m.dtype,
                                      torch.device('cpu')) for m in meta]

    def name(self) -> str:
        return self._node.name()

    def __call__(self, *grads):
        out = self._node(*(g.to(self._device) if g is not None else None
                           for g in grads))
        out = out if isinstance(out, (tuple, list)) else [out]
        return [o.cpu() if isinstance(o, Tensor) else o for o in out]
