from .image_net_folder import ImageNetFolder
from .offline_cifar import OfflineCIFAR10, OfflineCIFAR100
from .sklearn_digits import SklearnDigits

__all__ = ['ImageNetFolder', 'OfflineCIFAR10', 'OfflineCIFAR100',
           'SklearnDigits']

try:  # mmseg is optional (absent, or hidden by optional_deps)
    import mmseg.datasets  # noqa: F401
except ImportError:
    pass
else:
    from .digits_segmentation import DigitsSegmentation  # noqa: F401
    __all__.append('DigitsSegmentation')
