"""Train a classifier or segmentor, or run a compression algorithm.

A config with ``algorithm=...`` (mmrazor style) builds the algorithm around
its architecture; one with ``model=...`` (mmcls style) builds the
classifier (an mmseg ``model``, e.g. ``EncoderDecoder``, the segmentor).
Bad input (missing files, unknown keys or types, unreadable
checkpoints) ends in one line naming it, before the work_dir is touched.
"""
import argparse
import os.path as osp
import time

import mmcv
import torch.distributed as dist
from mmcls import __version__ as mmcls_version
from mmcls.apis import init_random_seed, set_random_seed
from mmcls.utils import collect_env, get_root_logger
from mmcv.runner import get_dist_info

from mmrazor_ext.apis import (UserInputError, build_dataset, build_model,
                              check_checkpoint,
                              check_data_paths, check_eval_metrics,
                              check_resume_from, check_work_dir, load_config,
                              setup_device, train_model)
from mmrazor_ext.apis.cli import (add_launch_args, exit_on_user_error,
                                  parse_launch_args)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument('--load-from', help='checkpoint whose weights start '
                        'training at epoch 1 (fine-tuning)')
    parser.add_argument('--resume-from', help='checkpoint to continue: '
                        'weights, optimizer state and epoch')
    parser.add_argument('--no-validate', action='store_true',
                        help='skip evaluation during training')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic cuDNN algorithms')
    add_launch_args(parser)
    return parse_launch_args(parser, argv)


def prepare(args):
    """Config, checks and distributed setup; nothing written yet."""
    cfg = load_config(args.config, args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.load_from is not None:
        cfg.load_from = args.load_from
    if args.resume_from is not None:
        cfg.resume_from = args.resume_from
    if 'model' not in cfg and 'algorithm' not in cfg:
        raise UserInputError(f'config {args.config} has neither model nor '
                             f'algorithm')
    check_data_paths(cfg)
    if not args.no_validate and 'metric' in cfg.get('evaluation', {}):
        check_eval_metrics(cfg.data.get('val'), cfg.evaluation.metric)
    for key in ('resume_from', 'load_from'):
        if cfg.get(key):
            check_checkpoint(cfg[key], key)
    check_work_dir(cfg.work_dir)
    return cfg, setup_device(cfg, args.launcher)


def setup(args):
    """Checks, then the seed, then the model: the seed fixes its initial
    weights (seeding afterwards, they would differ from run to run); then
    whether ``resume_from`` fits that model."""
    cfg, distributed = prepare(args)
    # after setup_device: in a distributed run rank 0's seed is broadcast
    cfg.seed = init_random_seed(args.seed, device=cfg.device)
    set_random_seed(cfg.seed, deterministic=args.deterministic)
    model = build_model(cfg)
    model.init_weights()
    if cfg.get('resume_from'):  # wins over load_from, as in mmcv
        check_resume_from(model, cfg.resume_from)
    return cfg, distributed, [build_dataset(cfg.data.train)], model


def main(argv=None):
    args = parse_args(argv)
    cfg, distributed, datasets, model = exit_on_user_error(
        'train.py', setup, args)

    mmcv.mkdir_or_exist(osp.abspath(cfg.work_dir))
    timestamp = time.strftime('%Y%m%d_%H%M%S', time.localtime())
    rank = get_dist_info()[0]
    if rank == 0:
        cfg.dump(osp.join(cfg.work_dir, f'{timestamp}_'
                          f'{osp.basename(args.config)}'))
    logger = get_root_logger(
        log_file=osp.join(cfg.work_dir, f'{timestamp}.log'),
        log_level=cfg.get('log_level', 'INFO'))
    env_info = '\n'.join(f'{k}: {v}' for k, v in collect_env().items())
    logger.info(f'Environment info:\n{env_info}')
    logger.info(f'Distributed: {distributed}, device: {cfg.device}')
    logger.info(f'Config:\n{cfg.pretty_text}')

    logger.info(f'Set random seed to {cfg.seed}, '
                f'deterministic: {args.deterministic}')
    meta = dict(seed=cfg.seed, env_info=env_info, mmcls_version=mmcls_version,
                config=cfg.pretty_text, CLASSES=datasets[0].CLASSES)
    train_model(model, datasets, cfg, distributed=distributed,
                validate=not args.no_validate, timestamp=timestamp, meta=meta)
    if distributed:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
