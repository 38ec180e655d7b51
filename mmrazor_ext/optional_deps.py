"""Keep a broken optional package from breaking this one.

mmrazor 0.x imports mmdet / mmseg when they are importable
(``try: import mmseg``) and then ``from mmseg.models import *`` outside the
``try``. An mmseg installed beside an mmcv without compiled ops makes that
second import raise (``No module named 'mmcv._ext'``) and with it every
``import mmrazor.models``: every tool of this project. This module, imported
before anything imports mmrazor, tries the optional package's ``models``
first; when that fails, it warns once naming the package and hides it
(``sys.modules[name] = None``), so mmrazor takes it as not installed.
Standard library only: it must run before mmcv / mmrazor are imported.

Before trying them it installs the ``mmcv.ops`` stand-in
(:mod:`mmrazor_ext.compat.mmcv_ops`), so an mmseg beside an mmcv without
compiled ops imports and works for every model whose forward calls no
compiled op; only a package that still fails is hidden.
"""
import importlib
import importlib.util
import sys
import warnings
from typing import List, Sequence

from .compat.mmcv_ops import install as install_mmcv_ops_stand_in

# the optional packages mmrazor.models imports, with the submodule it imports
OPTIONAL_PACKAGES = ('mmdet', 'mmseg')


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _forget(name: str) -> None:
    """Drop ``name`` and its submodules left half-imported by a failure."""
    for key in [k for k in sys.modules
                if k == name or k.startswith(name + '.')]:
        del sys.modules[key]


def hide_broken_optional_packages(
        names: Sequence[str] = OPTIONAL_PACKAGES) -> List[str]:
    """Hide each installed package of ``names`` whose ``models`` does not
    import, with a ``UserWarning`` naming it and the error.

    Returns:
        The names hidden by this call.
    """
    install_mmcv_ops_stand_in()  # a no-op where mmcv has compiled ops
    hidden = []
    for name in names:
        if sys.modules.get(name, 0) is None or not _installed(name):
            continue  # already hidden, or absent: mmrazor handles that
        try:
            importlib.import_module(name + '.models')
        except Exception as err:  # any failure: the package is unusable
            _forget(name)
            sys.modules[name] = None  # import raises ImportError from now on
            hidden.append(name)
            first = (str(err).splitlines() or [''])[0]
            warnings.warn(
                f'mmrazor_ext: optional package {name!r} is installed but '
                f'"import {name}.models" fails ({type(err).__name__}: '
                f'{first}); mmrazor runs without {name} support in this '
                f'process (repair or uninstall {name} to silence this)',
                stacklevel=2)
    return hidden
