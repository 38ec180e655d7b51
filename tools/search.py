"""Search a trained supernet with the config's ``searcher`` (mmrazor 0.x's
``tools/mmcls/search_mmcls.py``, on CPU or GPUs, one or several processes).

For HybridSearch, ``GeatpySearcher``: a geatpy evolution of the keep ratio
of every channel space of a trained classifier (and of which residual
blocks to remove) under budgets in FLOPs, parameters or measured latency
(a per-layer latency table measured first, or read from its cache),
candidates scored by inference on a held-out split of the training set.
Its JSON goes beside CHECKPOINT, its state (resume after a kill) and PNGs
into the work dir, and ``search_results.json`` there names the JSON.
Several processes (``tools/dist_search.sh``) share each generation's
evaluations.

For AutoSlim, mmrazor's ``GreedySearcher``: from the widest subnet, each
step removes the channel bin whose loss costs the least score on
``data.test``, until the FLOPs are under each budget (``budget=dict(
flops=[...])``, fractions of the supernet's FLOPs kept). Every
result is a ``channel_cfg`` (``subnet_<FLOPs>.yaml``) that retraining loads
(``algorithm.channel_cfg``); ``search_results.json`` lists them. The
searcher writes into ``WORK_DIR/greedy_search/`` (its resume state
``latest.pkl`` stays there); the results are then moved into ``WORK_DIR``
by renames, so a file there is always complete.

    python tools/search.py CONFIG CHECKPOINT [--work-dir DIR]
        [--cfg-options key=value ...] [--launcher pytorch]
"""
import glob
import os
import os.path as osp
import re

import mmrazor_ext  # noqa: F401  first: quiets known-harmless warnings
import mmcv
import torch.distributed as dist
from mmcls.datasets import build_dataloader, build_dataset
from mmcv.parallel import MMDataParallel
from mmcv.runner import get_dist_info
from mmcls.models import build_classifier
from mmrazor.core import build_searcher
from mmrazor.core.builder import SEARCHERS

from mmrazor_ext.apis import (UserInputError, build_model, check_checkpoint,
                              check_data_paths, check_eval_metrics,
                              check_work_dir, load_config,
                              multi_process_test, setup_device,
                              single_device_test, wrap_model)
from mmrazor_ext.apis.cli import (ToolParser, add_launch_args,
                                  exit_on_user_error, parse_launch_args,
                                  rank_from_env)
from mmrazor_ext.apis.console import (attach_log_file, console_logger,
                                      detach_log_file, run_line,
                                      unique_timestamp, versions_line)
from mmrazor_ext.core import WorkDirLock
from mmrazor_ext.apis.model_loading import checkpoint_state, load_weights
from mmrazor_ext.apis.train import loader_settings
from mmrazor_ext.algorithms.pretrained import load_pretrained
from mmrazor_ext.searchers import GeatpySearcher
from mmrazor_ext.searchers.greedy_budget import greedy_target_flops
from mmrazor_ext.utils import write_json
# after mmrazor_ext, which hides a broken mmseg from mmrazor.models
from mmrazor.models.builder import build_pruner  # noqa: E402,I100


def parse_args(argv=None):
    parser = ToolParser(
        prog='search.py',
        description='search a trained supernet (mmrazor searcher)')
    parser.add_argument('config', help='search config (has `searcher`)')
    parser.add_argument('checkpoint', help='trained supernet checkpoint')
    parser.add_argument('--work-dir', help='where the results go (default '
                        'work_dirs/<config name>)')
    add_launch_args(parser)
    return parse_launch_args(parser, argv)


def load_search_config(args):
    cfg = load_config(args.config, args.cfg_options)
    if 'searcher' not in cfg:
        raise UserInputError(f'config {args.config} has no searcher')
    if 'algorithm' not in cfg:
        raise UserInputError(f'config {args.config} has no algorithm')
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def is_hybrid(cfg):
    """The config's searcher is HybridSearch's (``GeatpySearcher``)."""
    cls = SEARCHERS.get(cfg.searcher.get('type', ''))
    return isinstance(cls, type) and issubclass(cls, GeatpySearcher)


def prepare_hybrid(args, cfg):
    """Classifier with the checkpoint's weights, its pruner, and the
    searcher (every setting checked); nothing written yet."""
    algo = cfg.algorithm
    arch = algo.get('architecture', {}).get('model') or cfg.get('model')
    if arch is None or 'pruner' not in algo:
        raise UserInputError(f'config {args.config}: the search needs '
                             'algorithm.architecture.model and '
                             'algorithm.pruner')
    check_data_paths(cfg)
    check_checkpoint(args.checkpoint, 'searched')
    check_work_dir(cfg.work_dir)
    distributed = setup_device(cfg, args.launcher)
    model = build_classifier(arch)
    try:
        load_pretrained(model, args.checkpoint)
    except UserInputError as e:
        raise UserInputError(str(e).replace(
            'pretrained checkpoint', 'checkpoint', 1)) from e
    pruner = build_pruner(algo.pruner)
    pruner.prepare_from_supernet(model)
    model.to(cfg.device)
    searcher = build_searcher(cfg.searcher, default_args=dict(
        model=model, pruner=pruner, data=cfg.data,
        checkpoint=args.checkpoint, work_dir=cfg.work_dir,
        config=args.config))
    searcher.prepare_split()  # enough training images for the split?
    searcher.prepare_latency()  # the latency table; can the budget be met?
    return cfg, distributed, searcher


def take_work_dir(cfg):
    """The work dir's lock (rank 0 of a distributed run takes it)."""
    check_work_dir(cfg.work_dir)
    lock = WorkDirLock(cfg.work_dir)
    if rank_from_env() == 0:
        lock.acquire()
    return lock


def start_log(logger, cfg, distributed):
    """The search's log file, named uniquely in the work dir."""
    mmcv.mkdir_or_exist(osp.abspath(cfg.work_dir))
    path = osp.join(cfg.work_dir, f'{unique_timestamp(cfg.work_dir)}.log')
    handler = attach_log_file(logger, path)
    logger.info(f'search.py: {versions_line()}')
    logger.info(f'search.py: {run_line(cfg, distributed, path)}')
    return handler


def hybrid_main(args, cfg):
    """HybridSearch's search stage."""
    logger = console_logger()
    lock = exit_on_user_error('search.py', take_work_dir, cfg)
    handler = None
    try:
        cfg, distributed, searcher = exit_on_user_error(
            'search.py', prepare_hybrid, args, cfg)
        handler = start_log(logger, cfg, distributed)
        result = searcher.search()
        if get_dist_info()[0] == 0:
            best = result['best']
            write_json([dict(json=searcher.json_path, flops=best['flops'],
                             flops_ratio=best['flops_ratio'],
                             search_top1=best['search_top1'],
                             **({'latency_ms': best['latency_ms']}
                                if 'latency_ms' in best else {}))],
                       osp.join(cfg.work_dir, 'search_results.json'))
    finally:
        detach_log_file(logger, handler)
        lock.release()
    if distributed:
        dist.destroy_process_group()
    return result


def prepare(args, cfg):
    """Config, supernet with its weights, loader; nothing written yet."""
    check_eval_metrics(cfg.data.test, cfg.searcher.get('metrics',
                                                       'accuracy'),
                       'searcher.metrics')
    check_data_paths(cfg)
    ckpt = check_checkpoint(args.checkpoint, 'supernet')
    check_work_dir(cfg.work_dir)
    distributed = setup_device(cfg, args.launcher)

    dataset = build_dataset(cfg.data.test, dict(test_mode=True))
    loader = build_dataloader(dataset, **{
        **loader_settings(cfg, distributed, len(cfg.gpu_ids)),
        'shuffle': False, 'sampler_cfg': None, 'round_up': True})
    model = build_model(cfg)
    load_weights(model, checkpoint_state(ckpt), args.checkpoint)
    cfg.searcher = greedy_target_flops(cfg.searcher, model)
    return cfg, distributed, loader, model


def publish(search_dir, work_dir):
    """Move the searcher's ``subnet_<FLOPs>.yaml`` into ``work_dir`` (a
    rename each) and write ``search_results.json`` (largest FLOPs first)."""
    results = []
    for path in glob.glob(osp.join(search_dir, 'subnet_*.yaml')):
        flops = int(re.fullmatch(r'subnet_(\d+)\.yaml',
                                 osp.basename(path)).group(1))
        target = osp.join(work_dir, osp.basename(path))
        os.replace(path, target)
        results.append(dict(flops=flops, channel_cfg=target))
    results.sort(key=lambda r: -r['flops'])
    write_json(results, osp.join(work_dir, 'search_results.json'))
    return results


def main(argv=None):
    args = parse_args(argv)
    cfg = exit_on_user_error('search.py', load_search_config, args)
    if is_hybrid(cfg):
        return hybrid_main(args, cfg)
    cfg, distributed, loader, model = exit_on_user_error(
        'search.py', prepare, args, cfg)
    search_dir = osp.join(cfg.work_dir, 'greedy_search')
    mmcv.mkdir_or_exist(search_dir)
    logger = console_logger()
    model = wrap_model(model, cfg.device, distributed)
    if not hasattr(model, 'module'):  # mmrazor's searchers want a wrapper
        model = MMDataParallel(model)  # CPU: no device ids
    test_fn = multi_process_test if distributed else \
        lambda m, d: single_device_test(m, d, progress_scale=0)
    searcher = build_searcher(cfg.searcher, default_args=dict(
        algorithm=model, dataloader=loader, test_fn=test_fn,
        work_dir=search_dir, logger=logger))
    searcher.search()
    if get_dist_info()[0] == 0:
        for r in publish(search_dir, cfg.work_dir):
            logger.info(f"{r['flops'] / 1e6:.2f} MFLOPs: {r['channel_cfg']}")
    if distributed:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
