import copy
import functools

import torch
from mmcls.core import DistEvalHook, EvalHook
from mmcls.utils import get_root_logger
from mmcv.parallel import MMDataParallel
from mmcv.runner import DistSamplerSeedHook, build_runner
from mmrazor.core.optimizer import build_optimizers

from ..core import AnyDeviceDistributedDataParallel, no_buffer_sync
from ..engine.test_loops import multi_process_test, single_device_test
from ..utils import check_checkpoint
from .tasks import build_dataloader, build_dataset, needs_scatter

_LOADER_KEYS = ('train', 'val', 'test', 'train_dataloader', 'val_dataloader',
                'test_dataloader')


def loader_settings(cfg, distributed, world_size):
    """Loader arguments shared by train and val, as mmcls builds them;
    memory pinned only for GPUs, and ``persistent_workers`` only with
    worker processes (``workers_per_gpu=0`` works whatever the config's
    ``persistent_workers``)."""
    settings = dict(num_gpus=world_size if not distributed else 1,
                    dist=distributed, round_up=True, seed=cfg.get('seed'),
                    sampler_cfg=cfg.get('sampler', None),
                    pin_memory=cfg.get('device') == 'cuda')
    settings.update({k: v for k, v in cfg.data.items()
                     if k not in _LOADER_KEYS})
    if not settings.get('workers_per_gpu', 2):
        # torch refuses persistent workers without worker processes
        settings['persistent_workers'] = False
    return settings


def wrap_model(model, device, distributed, find_unused_parameters=False):
    """Put the model on ``device`` and wrap it for the mmcv runner.

    GPU: ``MMDataParallel`` on one GPU, or DDP with one GPU per process.
    CPU: unwrapped (one process; ``MMDataParallel`` for a segmentor,
    whose batches carry DataContainers) or DDP over gloo.
    """
    if distributed:
        model = model.to(device)
        device_ids = [torch.cuda.current_device()] if device == 'cuda' \
            else None
        return AnyDeviceDistributedDataParallel(
            model, device_ids=device_ids,
            find_unused_parameters=find_unused_parameters,
            **no_buffer_sync())
    if device == 'cuda':
        return MMDataParallel(model.cuda(), device_ids=[0])
    if needs_scatter(model) and not torch.cuda.is_available():
        return MMDataParallel(model.cpu())  # no device: scatters on CPU
    return model.cpu()


def log_every_epoch(log_config):
    """``log_config`` whose logger hooks also log the last iterations of
    each epoch (mmcv's ``ignore_last=False``), so the loss is logged at
    least once an epoch whatever the ``interval``; a hook that sets
    ``ignore_last`` keeps it."""
    log_config = copy.deepcopy(log_config)
    for hook in (log_config or {}).get('hooks', []):
        hook.setdefault('ignore_last', False)
    return log_config


def train_model(model, datasets, cfg, distributed=False, validate=True,
                timestamp=None, meta=None):
    """Train a classifier or an mmrazor algorithm with the mmcv runner.

    Follows mmcls's ``train_model`` and mmrazor's ``train_mmcls_model``
    (several optimizers for algorithms), but wraps the model for the
    device in ``cfg.device`` so that single- and multi-process training
    also run on CPU.

    Args:
        model (nn.Module): Classifier or algorithm.
        datasets (list): One dataset per workflow phase.
        cfg (mmcv.Config): Full config; ``cfg.device`` and
            ``cfg.work_dir`` set.
        distributed (bool): torch.distributed is initialised.
        validate (bool): Evaluate on ``cfg.data.val`` as
            ``cfg.evaluation`` says.
        timestamp (str): Shared by the .log and .log.json names.
        meta (dict): Saved in checkpoints.
    """
    logger = get_root_logger()
    world_size = len(cfg.gpu_ids)
    loader_cfg = loader_settings(cfg, distributed, world_size)
    train_loader_cfg = {**loader_cfg, **cfg.data.get('train_dataloader', {})}
    data_loaders = [build_dataloader(ds, **train_loader_cfg)
                    for ds in datasets]

    # a pruned checkpoint first gives the model its structure (subnet,
    # physically pruned layers), so the optimizer and DDP see final shapes
    start_from = cfg.get('resume_from') or cfg.get('load_from')
    if start_from and hasattr(model, 'load_structure'):
        ckpt = check_checkpoint(start_from, 'load_from')  # files and URLs
        model.load_structure(ckpt.get('state_dict', ckpt))
    model = wrap_model(model, cfg.device, distributed,
                       cfg.get('find_unused_parameters', False))
    optimizer = build_optimizers(model, cfg.optimizer)
    runner = build_runner(
        cfg.runner,
        default_args=dict(model=model, batch_processor=None,
                          optimizer=optimizer, work_dir=cfg.work_dir,
                          logger=logger, meta=meta))
    runner.timestamp = timestamp
    runner.register_training_hooks(
        cfg.lr_config, cfg.optimizer_config, cfg.checkpoint_config,
        log_every_epoch(cfg.log_config), cfg.get('momentum_config', None),
        custom_hooks_config=cfg.get('custom_hooks', None))
    if distributed:
        runner.register_hook(DistSamplerSeedHook())

    if validate:
        val_dataset = build_dataset(cfg.data.val, dict(test_mode=True))
        val_loader_cfg = {**loader_cfg, 'shuffle': False, 'sampler_cfg': None,
                          'drop_last': False,
                          **cfg.data.get('val_dataloader', {})}
        val_loader = build_dataloader(val_dataset, **val_loader_cfg)
        eval_cfg = dict(cfg.get('evaluation', {}))
        eval_cfg['by_epoch'] = 'IterBased' not in cfg.runner['type']
        if distributed:
            # mmcls's DistEvalHook ends the bar's line with a print
            hook = DistEvalHook(val_loader, test_fn=functools.partial(
                multi_process_test, end_line=False), **eval_cfg)
        else:
            hook = EvalHook(val_loader, test_fn=single_device_test,
                            **eval_cfg)
        # after IterTimerHook, see open-mmlab/mmcv#1261
        runner.register_hook(hook, priority='LOW')

    if cfg.get('resume_from'):
        runner.resume(cfg.resume_from)
    elif cfg.get('load_from'):
        runner.load_checkpoint(cfg.load_from, map_location='cpu')
    runner.run(data_loaders, cfg.workflow)
    return runner
