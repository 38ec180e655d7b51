"""Search a trained supernet with the config's ``searcher`` (mmrazor 0.x's
``tools/mmcls/search_mmcls.py``, on CPU or GPUs, one or several processes).

For AutoSlim, mmrazor's ``GreedySearcher``: from the widest subnet, each
step removes the channel bin whose loss costs the least score on
``data.test``, until the FLOPs are under each of ``target_flops``. Every
result is a ``channel_cfg`` (``subnet_<FLOPs>.yaml``) that retraining loads
(``algorithm.channel_cfg``); ``search_results.json`` lists them. The
searcher writes into ``WORK_DIR/greedy_search/`` (its resume state
``latest.pkl`` stays there); the results are then moved into ``WORK_DIR``
by renames, so a file there is always complete.

    python tools/search.py CONFIG CHECKPOINT [--work-dir DIR]
        [--cfg-options key=value ...] [--launcher pytorch]
"""
import argparse
import glob
import os
import os.path as osp
import re

import mmcv
import torch.distributed as dist
from mmcls.datasets import build_dataloader, build_dataset
from mmcls.utils import get_root_logger
from mmcv.parallel import MMDataParallel
from mmcv.runner import get_dist_info, load_state_dict
from mmrazor.core import build_searcher

from mmrazor_ext.apis import (UserInputError, build_model, check_checkpoint,
                              check_data_paths, check_eval_metrics,
                              check_work_dir, load_config,
                              multi_process_test, setup_device,
                              single_device_test, wrap_model)
from mmrazor_ext.apis.cli import (add_launch_args, exit_on_user_error,
                                  parse_launch_args)
from mmrazor_ext.apis.train import loader_settings
from mmrazor_ext.utils import state_dict_mismatch, write_json


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='search a trained supernet (mmrazor searcher)')
    parser.add_argument('config', help='search config (has `searcher`)')
    parser.add_argument('checkpoint', help='trained supernet checkpoint')
    parser.add_argument('--work-dir', help='where the results go (default '
                        'work_dirs/<config name>)')
    add_launch_args(parser)
    return parse_launch_args(parser, argv)


def prepare(args):
    """Config, supernet with its weights, loader; nothing written yet."""
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
    state = ckpt.get('state_dict', ckpt)
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
    try:
        load_state_dict(model, state, strict=True)
    except RuntimeError as e:
        what = state_dict_mismatch(model.state_dict(), state) or \
            str(e).strip().splitlines()[0][:300]
        raise UserInputError(f'checkpoint {args.checkpoint} does not fit '
                             f'the model ({what})') from e
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
    cfg, distributed, loader, model = exit_on_user_error(
        'search.py', prepare, args)
    search_dir = osp.join(cfg.work_dir, 'greedy_search')
    mmcv.mkdir_or_exist(search_dir)
    logger = get_root_logger()
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
