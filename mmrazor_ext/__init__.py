"""mmrazor_ext: channel pruning, ratio search and layer fusion for mmcls.

Importing the package (or naming it in a config's ``custom_imports``)
registers its backbones, datasets, hooks, metrics, pruners and algorithms
into the mmcls / mmrazor registries.
"""
from . import apis, core, datasets, engine, metrics, models  # noqa: F401
from . import algorithms  # noqa: F401
from . import pruners  # noqa: F401
from .registry import METRICS  # noqa: F401
from .version import __version__  # noqa: F401
