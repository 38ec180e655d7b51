"""ONNX export of a classifier's or segmentor's inference forward, with a
dynamic batch axis, and the op / module that stops an export.

Two exporters: PyTorch's TorchScript-based one (``'torchscript'``: 0.3 s
for ResNet-20, deprecated by PyTorch) and ``torch.export``-based one
(``'dynamo'``: about 8 s for ResNet-20, PyTorch's default since 2.9).
``'auto'`` (the default) tries the first and falls back to the second,
which also exports ops the first cannot (FFTs, ``logcumsumexp``).
"""
import contextlib
import os
import re
import sys
import warnings
from typing import List, Optional, Sequence

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ..adapters import predict_forward
from ..compat.private_apis import dispatch_mode_class
from ..utils import UserInputError, atomic_write

EXPORTERS = ('auto', 'torchscript', 'dynamo')
#: ONNX opset of the TorchScript exporter (the dynamo one picks its own).
OPSET = 17
INPUT = 'input'


class InferenceModel(nn.Module):
    """``model``'s inference forward as ``forward(x)``: a classifier's
    logits, a segmentor's ``forward_dummy`` (see
    :func:`mmrazor_ext.adapters.predict_forward`)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x):
        return predict_forward(self.model, x)


class OnnxExportError(UserInputError):
    """An op the ONNX exporters cannot convert, with the module calling
    it."""


def output_names(outputs) -> List[str]:
    """``['output']`` for one tensor, ``['output_0', ...]`` for several."""
    if isinstance(outputs, torch.Tensor):
        return ['output']
    return [f'output_{i}' for i in range(len(outputs))]


def export_onnx(model: nn.Module, input_shape: Sequence[int], path: str,
                exporter: str = 'auto', batch: int = 2) -> dict:
    """Write ``model``'s inference forward to ``path`` as ONNX, batch axis
    dynamic (atomically: a failed export leaves ``path`` as it was).

    Args:
        model: A classifier, segmentor or plain module, in eval mode.
        input_shape: ``(C, H, W)`` of one image.
        path: The ``.onnx`` file.
        exporter: ``'auto'``, ``'torchscript'`` or ``'dynamo'``.
        batch: Batch size of the example input (not 1, so that the batch
            axis cannot be mistaken for a constant).

    Returns:
        ``dict(exporter=..., opset=..., inputs=..., outputs=...)``.

    Raises:
        OnnxExportError: An op neither exporter converts: the line names
            the op and the module that calls it.
    """
    if exporter not in EXPORTERS:
        raise UserInputError(f'exporter {exporter!r} is not one of '
                             f'{EXPORTERS}')
    wrapped = InferenceModel(model).eval()
    x = torch.randn(batch, *input_shape)
    with torch.no_grad():
        names = output_names(wrapped(x))
    tries = ['torchscript', 'dynamo'] if exporter == 'auto' else [exporter]
    errors = []
    for name in tries:
        try:
            atomic_write(path, lambda tmp: _EXPORT[name](wrapped, x, tmp,
                                                         names))
        except Exception as e:  # noqa: BLE001  an exporter's own errors
            errors.append(e)
            continue
        return dict(exporter=name, opset=_opset(path),
                    inputs={INPUT: ['batch', *input_shape]},
                    outputs=names)
    raise _export_error(wrapped, x, errors[-1]) from errors[-1]


def _torchscript(model, x, path, names):
    axes = {n: {0: 'batch'} for n in [INPUT, *names]}
    with warnings.catch_warnings(), _output_dropped():
        warnings.filterwarnings('ignore', category=DeprecationWarning)
        warnings.filterwarnings('ignore', category=torch.jit.TracerWarning)
        torch.onnx.export(model, (x, ), path, dynamo=False,
                          input_names=[INPUT], output_names=names,
                          dynamic_axes=axes, opset_version=OPSET)


def _dynamo(model, x, path, names):
    batch = torch.export.Dim('batch')
    with _quiet():
        program = torch.onnx.export(
            model, (x, ), None, dynamo=True, input_names=[INPUT],
            output_names=names, dynamic_shapes=({0: batch}, ),
            verbose=False)
        program.save(path)


_EXPORT = dict(torchscript=_torchscript, dynamo=_dynamo)


@contextlib.contextmanager
def _output_dropped():
    """File descriptors 1 and 2 to /dev/null: on a graph it cannot
    convert, the TorchScript exporter writes the whole graph to stdout
    from C++ (hundreds of lines, before its exception, which says what
    failed; the dynamo exporter is tried next)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, 'w') as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)


@contextlib.contextmanager
def _quiet():
    """The dynamo exporter prints its progress to stdout."""
    with open(os.devnull, 'w') as null, \
            contextlib.redirect_stdout(null), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        yield


def _opset(path: str) -> Optional[int]:
    import onnx
    proto = onnx.load(path, load_external_data=False)
    return next((o.version for o in proto.opset_import
                 if o.domain in ('', 'ai.onnx')), None)


# ------------------------------------------------------------ failures
_OP = re.compile(r"aten(?:::|\.)([A-Za-z_0-9]+)")


def _export_error(model: nn.Module, x, error: Exception) -> Exception:
    """One line for an export failure: the unsupported op and its module
    when the exporter's message names an aten op, else the message."""
    text = str(error)
    ops = [op for op in _OP.findall(text) if op not in ('default', 'Tensor')]
    if not ops:
        first = text.strip().splitlines()[0][:300] if text.strip() else ''
        return OnnxExportError(f'ONNX export failed: {type(error).__name__}'
                               f': {first}')
    op = ops[0]
    module = module_calling(model, x, op)
    where = f' in module {module}' if module else ''
    return OnnxExportError(
        f'ONNX export failed: op aten::{op}{where} has no ONNX conversion '
        '(replace it in the model, or keep that module out of the '
        'exported model)')


def module_calling(model: nn.Module, x, op: str) -> Optional[str]:
    """The name (with its class) of the innermost module of ``model``
    whose forward calls the aten op or torch function ``op`` first, by
    running ``model(x)`` once; None when no call matches."""
    key = op.strip('_').replace('linalg_', '')
    names = {m: n for n, m in model.named_modules()}
    stack, found = [], []

    def pre(mod, args):
        if mod in names:
            stack.append(mod)

    def post(mod, args, out):
        if stack and stack[-1] is mod:
            stack.pop()

    def seen(func):
        name = getattr(func, '__name__', '') or ''
        name = name.split('.')[0].strip('_').replace('linalg_', '')
        if not found and stack and name == key:
            found.append(stack[-1])

    class Torch(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen(func)
            return func(*args, **(kwargs or {}))

    class Aten(dispatch_mode_class()):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen(getattr(func, 'overloadpacket', func))
            return func(*args, **(kwargs or {}))

    handles = [nn.modules.module.register_module_forward_pre_hook(pre),
               nn.modules.module.register_module_forward_hook(post)]
    try:
        with torch.no_grad(), Torch(), Aten():
            model(x)
    except Exception:  # noqa: BLE001  the op is located, or it is not
        pass
    finally:
        for h in handles:
            h.remove()
    if not found:
        return None
    mod = found[0]
    name = names[mod]
    if name.startswith('model.'):
        name = name[len('model.'):]
    return f'{name or "(model)"} ({type(mod).__name__})'
