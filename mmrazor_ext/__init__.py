"""mmrazor_ext: channel pruning, ratio search and layer fusion for mmcls.

Importing the package (or naming it in a config's ``custom_imports``)
registers its backbones, datasets, hooks, metrics, pruners and algorithms
into the mmcls / mmrazor registries.
"""
from . import quiet  # noqa: F401  first: known-harmless warnings silenced
# next: before anything below imports mmrazor, which imports mmdet / mmseg
from .optional_deps import hide_broken_optional_packages

hide_broken_optional_packages()

from . import apis, core, datasets, engine, metrics, models  # noqa: E402,F401
from . import algorithms  # noqa: E402,F401
from . import pruners  # noqa: E402,F401
from . import searchers  # noqa: E402,F401
from .registry import METRICS  # noqa: E402,F401
from .version import __version__  # noqa: E402,F401
