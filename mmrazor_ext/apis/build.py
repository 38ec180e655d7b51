"""Build what a run config describes: an algorithm or a classifier."""
import copy

from mmcls.models import build_classifier
from mmrazor.models import build_algorithm

from .config_checks import _keywords


def build_model(cfg):
    """``build_algorithm(cfg.algorithm)`` if set, else the classifier.

    An algorithm that takes ``data`` (to score channels or evaluate while
    it is built) and has none in its config gets the run's ``cfg.data``,
    so ``--cfg-options data.*`` reach it as they reach the loaders.
    """
    if 'algorithm' not in cfg:
        return build_classifier(cfg.model)
    algorithm = copy.deepcopy(cfg.algorithm)
    if algorithm.get('data') is None and \
            'data' in (_keywords(algorithm) or []):
        algorithm['data'] = cfg.data
    return build_algorithm(algorithm)
