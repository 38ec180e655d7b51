"""Run at every interpreter start by ``mmrazor_ext.pth`` (installed with
the package into site-packages): puts the ``mmcv.ops`` stand-in finder of
:mod:`mmrazor_ext.compat.mmcv_ops` at the end of ``sys.meta_path``.

Why: mmrazor imports mmseg when it is installed, and mmseg imports
``mmcv.ops``, which needs ``mmcv._ext``; an mmcv built without compiled
ops has none. ``import mmrazor_ext`` installs the finder before anything
imports mmrazor, but a script that imports mmrazor (or mmseg) first would
fail with ``No module named 'mmcv._ext'``. Installed at start, the finder
is there whatever the import order. It answers only when no other finder
finds ``mmcv._ext`` (with mmcv-full nothing changes).

Cheap and silent: standard library only; ``mmrazor_ext`` itself is not
imported (its ``__init__`` loads torch and the OpenMMLab stack): the one
file ``mmrazor_ext/compat/mmcv_ops.py`` is run as that module, and only
when it declares ``STARTUP_API`` (a checkout that predates this hook is
left alone). Any failure leaves the interpreter as it was.
"""
import importlib.machinery
import os
import sys

NAME = 'mmrazor_ext.compat.mmcv_ops'


def install() -> bool:
    """Install the finder; True when it is installed."""
    try:
        module = sys.modules.get(NAME) or _load()
        if module is None:
            return False
        module.install()
        return True
    except Exception:  # never break an interpreter start
        return False


def _package_dir():
    """Where ``mmrazor_ext`` would be imported from (without importing
    it): what ``importlib.util.find_spec`` does for a top-level name,
    without importing importlib.util (which costs more at start than all
    the rest here)."""
    for finder in sys.meta_path:
        find = getattr(finder, 'find_spec', None)
        spec = find('mmrazor_ext', None) if find else None
        if spec is not None:
            return list(spec.submodule_search_locations or [None])[0]
    return None


def _load():
    folder = _package_dir()
    if folder is None:
        return None
    path = os.path.join(folder, 'compat', 'mmcv_ops.py')
    with open(path) as f:
        if '\nSTARTUP_API = ' not in f.read():
            return None
    # what importlib.util.module_from_spec does for a source file
    loader = importlib.machinery.SourceFileLoader(NAME, path)
    module = type(sys)(NAME)
    module.__spec__ = importlib.machinery.ModuleSpec(NAME, loader,
                                                     origin=path)
    module.__spec__.has_location = True
    module.__loader__, module.__file__ = loader, path
    module.__package__ = NAME.rpartition('.')[0]
    sys.modules[NAME] = module  # the package's own module from now on
    try:
        loader.exec_module(module)
    except BaseException:
        del sys.modules[NAME]
        raise
    return module
