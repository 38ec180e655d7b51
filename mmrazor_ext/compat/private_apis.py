"""Every private API of torch (and CPython) this package uses, in one place.

A torch release may rename or remove any of them without notice. Each is
reached only through a function here, which raises
:class:`PrivateApiChanged` naming the API and the torch version when it is
gone, and each has a canary test (``tests/compat/test_private_apis.py``)
that fails with the same kind of message on a torch that changed it. The
APIs (tested with torch 2.14):

- ``Node._input_metadata``: shape, dtype and device of each output of an
  autograd node (the pruner's tracer walks the autograd graph);
- ``Node._saved_*``: the arguments an autograd node saved from its forward
  (the probe cache tells ops apart by them);
- ``DistributedDataParallel._pre_forward`` / ``_post_forward``: DDP's steps
  around a forward, run around ``train_step`` / ``val_step``;
- ``Module._forward_pre_hooks``, ``_forward_hooks``, ``_state_dict_hooks``:
  removing hooks registered without keeping their handles (the masks);
- ``Module._non_persistent_buffers_set``: buffers left out of checkpoints;
- ``MultiheadAttention._qkv_same_embed_dim``: q, k, v packed in one
  ``in_proj_weight`` (the pruner slices it per head);
- ``sys._getframe``: the modules on the stack when an mmcv op is missing;
- ``torch.utils._python_dispatch.TorchDispatchMode``: the base of the
  FLOPs/params counter (``pruners/graph/op_counter.py``) and of the ONNX
  export's aten-op recorder (``deploy/onnx_export.py``).

Standard library only at import time (torch is imported by the functions
that need it).
"""
import sys
from typing import Any, Callable, Dict, Iterable, Set, Tuple

#: The torch version every API here was checked against.
TESTED_TORCH = '2.14'


class PrivateApiChanged(RuntimeError):
    """A private torch / CPython API this package relies on has changed."""


def _changed(api: str, err: BaseException) -> PrivateApiChanged:
    try:
        import torch
        version = torch.__version__
    except ImportError:  # pragma: no cover - torch is a dependency
        version = 'unknown'
    return PrivateApiChanged(
        f'torch {version} changed the private API {api} that mmrazor_ext '
        f'relies on (checked with torch {TESTED_TORCH}; see '
        f'mmrazor_ext/compat/private_apis.py): {type(err).__name__}: {err}')


def input_metadata(node) -> Any:
    """Per-output ``(shape, dtype, device)`` records of autograd node
    ``node`` (``Node._input_metadata``: the metadata of the gradients the
    node takes, i.e. of the forward outputs it stands for)."""
    try:
        return node._input_metadata
    except AttributeError as err:
        raise _changed('torch.autograd.graph.Node._input_metadata',
                       err) from None


def saved_values(node) -> Tuple[Tuple[str, Any], ...]:
    """``(name, value)`` of every forward argument autograd node ``node``
    saved (its ``_saved_*`` attributes, e.g. a convolution's
    ``_saved_stride``), in name order."""
    cls = type(node)
    names = _SAVED_NAMES.get(cls)
    if names is None:
        names = tuple(a for a in dir(node) if a.startswith('_saved_'))
        if not hasattr(node, '__dict__'):  # a C++ node: names per class
            _SAVED_NAMES[cls] = names
    return tuple((a, getattr(node, a)) for a in names)


_SAVED_NAMES: Dict[type, Tuple[str, ...]] = {}  # node class -> its names


def ddp_pre_forward(ddp, *inputs, **kwargs):
    """``DistributedDataParallel._pre_forward``: what DDP does before a
    forward (buffer broadcast, bucket rebuild); returns the inputs."""
    try:
        step = ddp._pre_forward
    except AttributeError as err:
        raise _changed('DistributedDataParallel._pre_forward', err) from None
    return step(*inputs, **kwargs)


def ddp_post_forward(ddp, output):
    """``DistributedDataParallel._post_forward``: what DDP does after a
    forward (unused-parameter search, reducer preparation)."""
    try:
        step = ddp._post_forward
    except AttributeError as err:
        raise _changed('DistributedDataParallel._post_forward',
                       err) from None
    return step(output)


# the hook dicts of nn.Module keyed by handle id, and the side dicts
# (``register_forward_hook(with_kwargs=..., always_call=...)``) that
# RemovableHandle.remove() also clears
_HOOK_DICTS = ('_forward_pre_hooks', '_forward_hooks', '_state_dict_hooks')
_SIDE_DICTS = ('_forward_pre_hooks_with_kwargs',
               '_forward_hooks_with_kwargs', '_forward_hooks_always_called')


def remove_hooks(module, fns: Iterable[Callable]) -> None:
    """Remove from ``module`` every forward pre-hook, forward hook and
    state-dict hook that is one of ``fns``, registered without keeping the
    handle (handles do not survive ``copy.deepcopy`` of a model)."""
    fns = tuple(fns)
    try:
        dicts = [getattr(module, name) for name in _HOOK_DICTS]
    except AttributeError as err:
        raise _changed('nn.Module hook dicts ' + ', '.join(_HOOK_DICTS),
                       err) from None
    for hooks in dicts:
        for k in [k for k, f in hooks.items() if f in fns]:
            del hooks[k]
            for side in _SIDE_DICTS:
                getattr(module, side, {}).pop(k, None)


def non_persistent_buffer_names(module) -> Set[str]:
    """Names of ``module``'s own buffers registered with
    ``persistent=False`` (``Module._non_persistent_buffers_set``)."""
    try:
        return set(module._non_persistent_buffers_set)
    except AttributeError as err:
        raise _changed('nn.Module._non_persistent_buffers_set',
                       err) from None


def mha_packs_qkv(module) -> bool:
    """Whether ``nn.MultiheadAttention`` ``module`` holds q, k and v in
    one ``in_proj_weight`` (``_qkv_same_embed_dim``)."""
    try:
        return bool(module._qkv_same_embed_dim)
    except AttributeError as err:
        raise _changed('nn.MultiheadAttention._qkv_same_embed_dim',
                       err) from None


def caller_frame(depth: int = 1):
    """The frame ``depth`` calls above the function that calls this one
    (``sys._getframe``; 1: that function's caller)."""
    try:
        return sys._getframe(depth + 1)
    except AttributeError as err:  # Python implementations without it
        raise _changed('sys._getframe', err) from None


def dispatch_mode_class() -> type:
    """``torch.utils._python_dispatch.TorchDispatchMode``: the base of a
    mode that sees every aten op a forward runs (what
    ``torch.utils.flop_counter`` builds on)."""
    try:
        from torch.utils._python_dispatch import TorchDispatchMode
    except ImportError as err:
        raise _changed('torch.utils._python_dispatch.TorchDispatchMode',
                       err) from None
    return TorchDispatchMode
