from .offline_cifar import OfflineCIFAR10, OfflineCIFAR100
from .sklearn_digits import SklearnDigits

__all__ = ['OfflineCIFAR10', 'OfflineCIFAR100', 'SklearnDigits']
