"""Build what a run config describes: an algorithm or a classifier."""
import copy
import os.path as osp

from mmcls.models import build_classifier
from mmrazor.models import build_algorithm

from ..adapters import mmseg_adapter, scoped_architecture
from ..compat import note_model
from .config_checks import UserInputError, _keywords


def build_model(cfg):
    """``build_algorithm(cfg.algorithm)`` if set, else the classifier (or
    the segmentor, for an mmseg ``model`` type such as ``EncoderDecoder``).
    The model is noted so that a compiled mmcv op it calls where mmcv has
    none names the module (:mod:`mmrazor_ext.compat.mmcv_ops`).

    An algorithm that takes ``data`` (to score channels or evaluate while
    it is built) and has none in its config gets the run's ``cfg.data``,
    so ``--cfg-options data.*`` reach it as they reach the loaders.
    An architecture's mmcls ``model`` dict is looked up in mmcls's
    registry (``type='ImageClassifier'`` as ``mmcls.ImageClassifier``), so
    mmrazor's own algorithms (``AutoSlim``) take ``model={{_base_.model}}``.
    """
    model = _build(cfg)
    note_model(model)
    return model


def _build(cfg):
    if 'algorithm' not in cfg:
        if mmseg_adapter.is_segmentor_type(cfg.model.get('type')):
            from mmseg.models import build_segmentor
            return build_segmentor(cfg.model, cfg.get('train_cfg'),
                                   cfg.get('test_cfg'))
        return build_classifier(cfg.model)
    algorithm = copy.deepcopy(cfg.algorithm)
    if algorithm.get('data') is None and \
            'data' in (_keywords(algorithm) or []):
        algorithm['data'] = cfg.data
    paths = algorithm.get('channel_cfg') if algorithm.get('retraining') \
        else None  # mmrazor's retraining: a subnet file or a list of them
    paths = [paths] if isinstance(paths, str) else \
        paths if isinstance(paths, (list, tuple)) else []
    for path in paths:
        if isinstance(path, str) and not osp.isfile(path):
            raise UserInputError(
                f'algorithm.channel_cfg {path} not found (a '
                f'subnet_<FLOPs>.yaml written by tools/search.py)')
    if isinstance(algorithm.get('architecture'), dict):
        algorithm['architecture'] = scoped_architecture(
            algorithm['architecture'])
    return build_algorithm(algorithm)
