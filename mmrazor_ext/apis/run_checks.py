"""More checks of a run's settings made before any work (beside
:mod:`.config_checks`): evaluation options, the runner's length, image
folders that hold no image, and the checkpoint an algorithm starts from.
Each failure is one :class:`UserInputError` line naming the key."""
import os
import os.path as osp

from ..utils import UserInputError, check_checkpoint

#: ``metric_options`` mmcls 0.25's ``BaseDataset.evaluate`` reads.
METRIC_OPTIONS = ('topk', 'thrs', 'average_mode')

#: Image extensions mmcls's ``CustomDataset`` reads by default.
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm',
                    '.tif')


def head_classes(cfg):
    """The number of classes the classifier scores (its head's
    ``num_classes``), or None when the config does not say."""
    model = cfg.get('model') or \
        cfg.get('algorithm', {}).get('architecture', {}).get('model') or {}
    head = model.get('head') if isinstance(model, dict) else None
    return head.get('num_classes') if isinstance(head, dict) else None


def check_metric_options(cfg, options, what='evaluation.metric_options'):
    """Known keys, and ``topk`` values the scores have columns for (mmcls
    asserts after the whole evaluation otherwise). Returns the options
    with ``topk`` as the tuple mmcls wants (``topk=1,5`` on the command
    line is a list)."""
    options = dict(options or {})
    for key in options:
        if key not in METRIC_OPTIONS:
            raise UserInputError(f'{what} {key!r} is not one of '
                                 f'{", ".join(METRIC_OPTIONS)}')
    if 'topk' not in options:
        return options
    topk = options['topk']
    values = list(topk) if isinstance(topk, (list, tuple)) else [topk]
    classes = head_classes(cfg)
    for k in values:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1 or \
                (classes is not None and k > classes):
            limit = f' and at most {classes}, the classes the model ' \
                'scores' if classes is not None else ''
            raise UserInputError(f'{what} topk={topk!r}: each k must be an '
                                 f'integer >= 1{limit}')
    options['topk'] = tuple(values) if isinstance(topk, (list, tuple)) \
        else topk
    return options


def check_runner(cfg):
    """An epoch-based runner with an epoch count (mmcv raises only after
    setup when ``max_iters`` is set beside ``max_epochs``)."""
    runner = cfg.get('runner') or {}
    kind = str(runner.get('type', ''))
    if 'max_iters' in runner and 'max_epochs' in runner:
        raise UserInputError(
            f"runner sets both max_epochs={runner['max_epochs']} and "
            f"max_iters={runner['max_iters']}: {kind or 'the runner'} "
            'takes one (drop max_iters, or use an IterBasedRunner)')
    epochs = runner.get('max_epochs')
    if epochs is not None and (isinstance(epochs, bool) or
                               not isinstance(epochs, int) or epochs < 0):
        raise UserInputError(f'runner.max_epochs={epochs!r} must be an '
                             'integer >= 0')


def check_image_folders(cfg):
    """An image-folder data set (``ann_file`` None, mmcls's layout
    ``data_prefix/<class>/<image>``) has at least one image: mmcls raises
    ``Found 0 files`` in a traceback otherwise. Stops at the first image
    found, so an ImageNet-size folder takes milliseconds."""
    for split in ('train', 'val', 'test'):
        ds = cfg.data.get(split)
        if not isinstance(ds, dict) or ds.get('ann_file') is not None:
            continue
        prefix = ds.get('data_prefix')
        if not isinstance(prefix, str) or not osp.isdir(prefix) or \
                not _is_folder_dataset(ds.get('type')):
            continue
        extensions = tuple(e.lower() for e in ds.get(
            'extensions', IMAGE_EXTENSIONS))
        if not _has_image(prefix, extensions):
            raise UserInputError(
                f'data.{split}.data_prefix={prefix} holds no image: '
                f'expected {prefix}/<class>/<image> with one of '
                f'{", ".join(extensions)}')


def _is_folder_dataset(kind):
    """mmcls's ``CustomDataset`` and its subclasses (``ImageNet``...)
    read class folders."""
    from mmcls.datasets import DATASETS, CustomDataset
    cls = kind if isinstance(kind, type) else \
        DATASETS.get(kind) if isinstance(kind, str) else None
    return isinstance(cls, type) and issubclass(cls, CustomDataset)


def _has_image(root, extensions):
    for folder in os.scandir(root):
        if not folder.is_dir():
            continue
        for dirpath, _, files in os.walk(folder.path, followlinks=True):
            if any(f.lower().endswith(extensions) for f in files):
                return True
    return False


def check_pretrained(cfg):
    """The checkpoint an algorithm starts from (``algorithm.pretrained``)
    is readable, an URL downloaded, before the algorithm is built: a
    pruner traces the model first, which takes a minute on a large
    segmentor."""
    path = (cfg.get('algorithm') or {}).get('pretrained')
    if path:
        check_checkpoint(path, 'pretrained')
