"""Checks of user input made before a run touches its ``work_dir``.

Each failure raises :class:`UserInputError` with one line that names the
file, key or value at fault; the tools print it instead of a traceback
from deep inside mmcv.
"""
import difflib
import gc
import inspect
import os
import os.path as osp
import sys
import tempfile

from mmcv import Config

from ..utils import (UserInputError, check_checkpoint,  # noqa: F401
                     state_dict_mismatch)

#: What mmseg 0.30's ``CustomDataset.evaluate`` accepts.
SEG_METRICS = ('mIoU', 'mDice', 'mFscore')


def load_config(path, cfg_options=None):
    """``Config.fromfile`` plus ``--cfg-options`` whose keys must exist.

    mmcv silently adds a mistyped key as a new one; here every key of
    ``cfg_options`` must already be in the config, except a new keyword
    of a registered constructor (a dict with ``type``, or ``policy`` for
    learning-rate and momentum hooks) that its signature accepts.
    """
    if not osp.isfile(path):
        raise UserInputError(f'config file {path} not found')
    cfg, error = _read_config(path)
    if error:
        raise UserInputError(f'cannot read config {path}: {error}')
    for key in (cfg_options or {}):
        _check_key(cfg, key, path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def _read_config(path):
    """``(Config, None)``, or ``(None, why)`` for a config mmcv cannot
    read (syntax errors, missing ``_base_`` files, ...). A failed read
    leaves mmcv's temporary copy of the config to be cleaned up after its
    folder is gone, which prints an "Exception ignored ...
    FileNotFoundError" traceback: that cleanup runs here, quietly."""
    previous = sys.unraisablehook

    def hook(unraisable):
        if not isinstance(unraisable.exc_value, FileNotFoundError):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        try:
            return Config.fromfile(path), None
        except Exception as e:
            error = str(e).strip() or type(e).__name__
        gc.collect()
        return None, error
    finally:
        sys.unraisablehook = previous


def _check_key(cfg, key, path):
    node, done = cfg._cfg_dict, []
    for part in key.split('.'):
        is_list = isinstance(node, (list, tuple)) and part.isdigit()
        if is_list and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        elif part == key.split('.')[-1] and _accepts(node, part):
            return  # a new keyword argument of a registered type
        else:
            options = list(node.keys()) if isinstance(node, dict) else []
            options += _keywords(node)
            near = difflib.get_close_matches(part, options, n=1)
            hint = f'; did you mean {".".join(done + near)}?' if near else ''
            raise UserInputError(f'--cfg-options key {key!r} not in config '
                                 f'{path}{hint}')
        done.append(part)


def _registered_classes(node):
    """Classes a config dict may build: by ``type`` or lr/momentum
    ``policy``, looked up in the registries a run builds from."""
    if not isinstance(node, dict):
        return []
    name = node.get('type')
    if name is None and isinstance(node.get('policy'), str):
        policy = node['policy']
        policy = policy.title() if policy == policy.lower() else policy
        name = [policy + 'LrUpdaterHook', policy + 'MomentumUpdaterHook']
    if not isinstance(name, (str, list)):
        return []
    from mmcls.datasets import DATASETS, PIPELINES
    from mmcv.cnn import MODELS  # root of mmcls's and mmrazor's models
    from mmcv.runner import HOOKS, OPTIMIZERS, RUNNERS
    names = name if isinstance(name, list) else [name]
    found, todo = [], [MODELS, DATASETS, PIPELINES, HOOKS, OPTIMIZERS,
                       RUNNERS, *_mmseg_data_registries()]
    while todo:
        registry = todo.pop()
        todo += registry.children.values()
        found += [registry.module_dict[n] for n in names
                  if n in registry.module_dict]
    return found


def _mmseg_data_registries():
    """mmseg's dataset and pipeline registries (roots of their own), when
    mmseg imports."""
    try:
        from mmseg.datasets import DATASETS, PIPELINES
    except ImportError:
        return []
    return [DATASETS, PIPELINES]


def _mmseg_custom_evaluate():
    from mmseg.datasets import CustomDataset
    return CustomDataset.evaluate


def _keywords(node, _all=True):
    """Keyword names the constructors of ``node`` accept (None: any)."""
    words = []
    for cls in _registered_classes(node):
        for klass in inspect.getmro(cls):
            if '__init__' not in vars(klass):
                continue
            params = inspect.signature(klass.__init__).parameters.values()
            words += [p.name for p in params if p.name != 'self' and
                      p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            if not any(p.kind == p.VAR_KEYWORD for p in params):
                break
        else:
            if not _all:
                return None
    return words


def _accepts(node, word):
    classes = _registered_classes(node)
    if not classes:
        return False
    words = _keywords(node, _all=False)
    return words is None or word in words


def check_data_paths(cfg):
    """Every ``data_prefix`` / ``ann_file`` of ``cfg.data.*`` exists, and
    every mmseg ``img_dir`` / ``ann_dir`` (under ``data_root``). The
    message names the environment variable that sets the data root when
    the config says which (``data_root_env``)."""
    for split in ('train', 'val', 'test'):
        ds = cfg.data.get(split)
        for sub in (ds.get('datasets', [ds]) if ds else []):
            sub = sub.get('dataset', sub)  # RepeatDataset and friends
            root = sub.get('data_root') or ''
            for key in ('data_prefix', 'ann_file', 'img_dir', 'ann_dir'):
                value = sub.get(key)
                path = osp.join(root, value) if value and key in (
                    'img_dir', 'ann_dir') else value
                if path and not osp.exists(osp.expanduser(path)):
                    shown = f'{value} (under data_root {root})' \
                        if path != value else value
                    env = cfg.get('data_root_env')
                    hint = f' (the data root is ${env}, now ' \
                        f'{os.environ[env]!r})' if os.environ.get(env) else \
                        f'; set ${env} to the data root' if env else ''
                    raise UserInputError(
                        f'data path not found: data.{split}.{key}={shown}'
                        f'{hint}')


def check_work_dir(path):
    """``path`` is a folder, or can be made one, and files can be written
    there: a file in its way, or a folder that cannot be written (read-only
    file system, permissions), is one line now rather than a traceback
    once the run starts writing. Leaves nothing behind."""
    parent = osp.abspath(osp.expanduser(path))
    while not osp.lexists(parent):
        parent = osp.dirname(parent)
    if not osp.isdir(parent):
        where = '' if parent == osp.abspath(osp.expanduser(path)) else \
            f': {parent}'
        kind = 'a file, not a folder' if osp.isfile(parent) else \
            'not a folder'
        raise UserInputError(f'work_dir {path}{where} is {kind}')
    # os.access says yes to root even on a read-only mount: try it
    try:
        fd, tmp = tempfile.mkstemp(prefix='.write_test_', dir=parent)
        os.close(fd)
        os.remove(tmp)
    except OSError as e:
        raise UserInputError(f'work_dir {path} cannot be written: cannot '
                             f'create files in {parent} ({e.strerror})')


#: What mmcls 0.25's ``evaluate`` accepts, by the class defining it.
_EVAL_METRICS = (
    ('MultiLabelDataset', ('mAP', 'CP', 'CR', 'CF1', 'OP', 'OR', 'OF1')),
    ('BaseDataset', ('accuracy', 'precision', 'recall', 'f1_score',
                     'support')))


def check_eval_metrics(dataset_cfg, metrics, what='evaluation.metric'):
    """Each of ``metrics`` is one the dataset's ``evaluate`` accepts (with
    a did-you-mean hint), so a typo fails now, not after an epoch. A
    dataset with its own ``evaluate`` is not checked."""
    import mmcls.datasets as mmcls_datasets
    while isinstance(dataset_cfg, dict) and 'type' in dataset_cfg and \
            ('dataset' in dataset_cfg or 'datasets' in dataset_cfg):
        inner = dataset_cfg.get('dataset') or dataset_cfg['datasets']
        dataset_cfg = inner[0] if isinstance(inner, (list, tuple)) else inner
    kind = (dataset_cfg or {}).get('type')
    cls = kind if inspect.isclass(kind) else \
        mmcls_datasets.DATASETS.get(kind) if isinstance(kind, str) else None
    if cls is None and isinstance(kind, str):  # an mmseg dataset?
        cls = next((r.get(kind) for r in _mmseg_data_registries()[:1]),
                   None)
        if cls is not None and cls.evaluate is _mmseg_custom_evaluate():
            _check_names(cls, metrics, SEG_METRICS, what)
        return
    allowed = next((names for base, names in _EVAL_METRICS
                    if getattr(cls, 'evaluate', None) is
                    getattr(mmcls_datasets, base).evaluate), None)
    if allowed is None:
        return
    _check_names(cls, metrics, allowed, what)


def _check_names(cls, metrics, allowed, what):
    for metric in [metrics] if isinstance(metrics, str) else metrics:
        if metric not in allowed:
            near = difflib.get_close_matches(str(metric), allowed, n=1)
            hint = f'; did you mean {near[0]}?' if near else ''
            raise UserInputError(
                f'{what} {metric!r} is not a metric of {cls.__name__} '
                f'({", ".join(allowed)}){hint}')


def check_resume_from(model, path, max_epochs=None):
    """The ``resume_from`` checkpoint was saved by a training run of this
    model: it has the epoch to continue from, and its state dict has the
    model's keys and shapes (mmcv's resume loads non-strictly and fails
    later, or trains on). A pruning algorithm first takes the structure
    the checkpoint carries (``load_structure``), as training will. With
    ``max_epochs`` (the runner's), a checkpoint with no epoch left to
    train is refused too: mmcv would exit at once without a word."""
    ckpt = check_checkpoint(path, 'resume_from')
    meta = ckpt.get('meta')
    if not isinstance(meta, dict) or 'epoch' not in meta or \
            'iter' not in meta:
        raise UserInputError(f'resume_from checkpoint {path} has no epoch '
                             'in its meta: not saved by a training run '
                             '(start from its weights with --load-from)')
    state = ckpt.get('state_dict', ckpt)
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
    if hasattr(model, 'load_structure'):
        try:
            model.load_structure(state)
        except (RuntimeError, KeyError, ValueError, TypeError) as e:
            raise UserInputError(f'resume_from checkpoint {path} does not '
                                 f'fit the model: {e}') from e
    own = model.state_dict()
    if 'pruned_exported' not in state:  # checkpoints of older versions
        own.pop('pruned_exported', None)
    what = state_dict_mismatch(own, state)
    if what:
        raise UserInputError(f'resume_from checkpoint {path} does not fit '
                             f'the model ({what})')
    if max_epochs is not None and meta['epoch'] >= max_epochs:
        raise UserInputError(
            f"resume_from checkpoint {path} is at epoch {meta['epoch']} "
            f'and runner.max_epochs is {max_epochs}: nothing left to train '
            f'(raise runner.max_epochs to train on)')
