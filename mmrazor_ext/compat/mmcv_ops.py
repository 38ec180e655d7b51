"""``mmcv.ops`` without compiled ops: an importable stand-in for ``mmcv._ext``.

mmcv 1.5.0 built without its C++/CUDA ops (``MMCV_WITH_OPS=0``; its ops do
not compile against torch 2.x headers) has no ``mmcv._ext``, so
``import mmcv.ops`` fails, and with it ``import mmseg.models`` (focal loss,
PSA / CC / point heads import ``mmcv.ops`` at import time).

:func:`install` appends a finder to the END of ``sys.meta_path``: Python
asks it for ``mmcv._ext`` only after every ordinary finder failed, i.e.
only when mmcv has no compiled ops. With mmcv-full, the real extension is
found first and nothing changes. The stand-in answers every attribute
(``load_ext`` checks ``hasattr``) with a function that raises
:class:`CompiledOpUnavailable`, one line naming the op and, when the
module that called it belongs to a model passed to :func:`note_model`,
its name and type in that model (its config key). No installed file is
touched. Standard library only: it runs before mmcv is imported, and
``mmrazor_ext.pth`` (installed with the package) runs it at interpreter
start, so that mmrazor or mmseg imported before mmrazor_ext find
``mmcv._ext`` too (``_mmrazor_ext_startup.py``).
"""
import importlib.machinery
import sys
import types

EXT = 'mmcv._ext'
#: This file may be run at interpreter start, before its package (see
#: ``_mmrazor_ext_startup.py``): standard library only at module level.
STARTUP_API = 1
#: Set on the stand-in module, so code can tell it from mmcv-full's.
MARKER = '__mmrazor_ext_stand_in__'
#: Build-information queries (mmcv's ``collect_env``): answered, not errors.
INFO = {'get_compiler_version': 'n/a (mmcv without compiled ops)',
        'get_compiling_cuda_version': 'n/a (mmcv without compiled ops)'}
_models = []  # weak references to models whose modules name a caller


class CompiledOpUnavailable(RuntimeError):
    """A compiled mmcv op was called where mmcv has no compiled ops."""


def note_model(model) -> None:
    """Remember ``model`` (weakly) so an op error names its calling module
    by the module's name in it (``model.decode_head.loss_decode``)."""
    import weakref
    _models[:] = [r for r in _models if r() is not None]
    if all(r() is not model for r in _models):
        _models.append(weakref.ref(model))


def _callers():
    """``nn.Module`` objects on the stack (as ``self``), innermost first."""
    try:
        from torch import nn
    except ImportError:  # pragma: no cover - torch is a dependency
        return []
    from .private_apis import caller_frame  # the package is loaded by now
    frame, found = caller_frame(2), []
    while frame is not None:
        obj = frame.f_locals.get('self')
        if isinstance(obj, nn.Module) and all(obj is not m for m in found):
            found.append(obj)
        frame = frame.f_back
    return found


def _where(callers) -> str:
    for ref in reversed(_models):  # the latest model first
        model = ref()
        if model is None:
            continue
        names = {id(m): n for n, m in model.named_modules()}
        for module in callers:
            name = names.get(id(module))
            if name:
                top = model.get_submodule(name.split('.')[0])
                key = f'model.{name}'
                if '.' in name:
                    key += (f' in model.{name.split(".")[0]} '
                            f'({type(top).__name__})')
                return f' (called by {key}, a {type(module).__name__})'
    if callers:
        return f' (called by a {type(callers[0]).__name__})'
    return ''


def _missing_op(name: str):
    def op(*args, **kwargs):
        raise CompiledOpUnavailable(
            f'mmcv compiled op {name!r} is not available: mmcv is installed '
            f'without compiled ops{_where(_callers())}; install mmcv-full '
            f'1.5.0 to use this model')
    op.__name__ = name
    op.__qualname__ = name
    return op


class _StandInExt(types.ModuleType):
    """``mmcv._ext`` whose every op raises :class:`CompiledOpUnavailable`."""

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        if name in INFO:
            return lambda: INFO[name]
        return _missing_op(name)


# the import protocol's methods, without importlib.abc's base classes
# (importing importlib.abc costs more than the rest at interpreter start)
class _Loader:

    def create_module(self, spec):
        module = _StandInExt(spec.name)
        setattr(module, MARKER, True)
        return module

    def exec_module(self, module):
        pass


class StandInFinder:
    """Finds ``mmcv._ext`` when no other finder does."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != EXT:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Loader())


def install() -> None:
    """Put the finder last on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, StandInFinder) for f in sys.meta_path):
        sys.meta_path.append(StandInFinder())


def is_stand_in(module=None) -> bool:
    """``mmcv._ext`` (imported now if needed) is this stand-in."""
    if module is None:
        import importlib
        module = importlib.import_module(EXT)
    return bool(getattr(module, MARKER, False))
