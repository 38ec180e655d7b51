"""Train a classifier or segmentor, or run a compression algorithm.

A config with ``algorithm=...`` (mmrazor style) builds the algorithm around
its architecture; one with ``model=...`` (mmcls style) builds the
classifier (an mmseg ``model``, e.g. ``EncoderDecoder``, the segmentor).
Bad input (missing files, unknown keys or types, unreadable
checkpoints) ends in one line naming it, before the work_dir is touched.
"""
import argparse
import os.path as osp
import sys

import mmrazor_ext  # noqa: F401  first: quiets known-harmless warnings
import torch.distributed as dist
from mmcls import __version__ as mmcls_version
from mmcls.apis import init_random_seed, set_random_seed
from mmcv.runner import get_dist_info

from mmrazor_ext.apis import (UserInputError, build_dataset, build_model,
                              check_checkpoint,
                              check_data_paths, check_eval_metrics,
                              check_resume_from, check_work_dir, load_config,
                              setup_device, train_model)
from mmrazor_ext.apis.cli import (ToolParser, add_launch_args,
                                  exit_on_user_error, parse_launch_args,
                                  rank_from_env, user_error_line)
from mmrazor_ext.apis.console import (FILE_ONLY, attach_log_file,
                                      console_logger, detach_log_file,
                                      env_info_text, init_log_to_buffer,
                                      run_line, unique_timestamp,
                                      versions_line)
from mmrazor_ext.apis.run_checks import (check_image_folders,
                                         check_metric_options,
                                         check_pretrained, check_runner)
from mmrazor_ext.core import WorkDirLock


def parse_args(argv=None):
    parser = ToolParser(prog='train.py',
                        description=__doc__.splitlines()[0])
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
    check_runner(cfg)
    check_data_paths(cfg)
    check_image_folders(cfg)
    evaluation = cfg.get('evaluation', {})
    if not args.no_validate and 'metric' in evaluation:
        check_eval_metrics(cfg.data.get('val'), evaluation.metric)
    if not args.no_validate and evaluation.get('metric_options'):
        evaluation.metric_options = check_metric_options(
            cfg, evaluation.metric_options)
    for key in ('resume_from', 'load_from'):
        if cfg.get(key):
            check_checkpoint(cfg[key], key)
    check_pretrained(cfg)
    check_work_dir(cfg.work_dir)
    return cfg, setup_device(cfg, args.launcher)


def setup(args):
    """Checks, then the seed, then the model: the seed fixes its initial
    weights (seeding afterwards, they would differ from run to run); then
    whether ``resume_from`` fits that model."""
    cfg, distributed = prepare(args)
    return (cfg, distributed) + build(args, cfg)[:2]


def build(args, cfg):
    """Seed, model, resume check, training data; mmcv's record of the
    weight initialisation (hundreds of lines), for the log file."""
    # after setup_device: in a distributed run rank 0's seed is broadcast
    cfg.seed = init_random_seed(args.seed, device=cfg.device)
    set_random_seed(cfg.seed, deterministic=args.deterministic)
    model = build_model(cfg)
    with init_log_to_buffer() as init_log:
        model.init_weights()
    if cfg.get('resume_from'):  # wins over load_from, as in mmcv
        check_resume_from(model, cfg.resume_from,
                          cfg.runner.get('max_epochs'))
    return [build_dataset(cfg.data.train)], model, init_log.getvalue()


def take_work_dir(cfg):
    """The work dir's lock (rank 0 of a distributed run takes it)."""
    lock = WorkDirLock(cfg.work_dir)
    if rank_from_env() == 0:
        lock.acquire()
    return lock


def main(argv=None):
    args = parse_args(argv)
    logger = console_logger(log_level='INFO')
    cfg, distributed = exit_on_user_error('train.py', prepare, args)
    lock = exit_on_user_error('train.py', take_work_dir, cfg)
    log_file = None
    try:
        datasets, model, init_log = exit_on_user_error('train.py', build,
                                                       args, cfg)
        log_file = start_log(logger, cfg, args, distributed, lock, init_log)
        meta = dict(seed=cfg.seed, env_info=log_file.env_info,
                    mmcls_version=mmcls_version, config=cfg.pretty_text,
                    CLASSES=datasets[0].CLASSES)
        try:  # a bad image met during training: one line too
            train_model(model, datasets, cfg, distributed=distributed,
                        validate=not args.no_validate,
                        timestamp=log_file.timestamp, meta=meta)
        except UserInputError as e:
            sys.exit(user_error_line('train.py', e))
    finally:
        detach_log_file(logger, log_file and log_file.handler)
        lock.release()
    if distributed:
        dist.destroy_process_group()


def start_log(logger, cfg, args, distributed, lock, init_log):
    """The run's log file (its name unique in the work dir) with what the
    console does not show: environment, config, weight initialisation."""
    timestamp = unique_timestamp(cfg.work_dir)
    if get_dist_info()[0] == 0:
        cfg.dump(osp.join(cfg.work_dir, f'{timestamp}_'
                          f'{osp.basename(args.config)}'))
    path = osp.join(cfg.work_dir, f'{timestamp}.log')
    handler = attach_log_file(logger, path, init_log)
    env_info = env_info_text()
    logger.info(f'Environment info:\n{env_info}', extra=FILE_ONLY)
    logger.info(f'Config:\n{cfg.pretty_text}', extra=FILE_ONLY)
    logger.info(f'train.py: {versions_line()}')
    logger.info(f'train.py: {run_line(cfg, distributed, path)}')
    logger.info(f'Set random seed to {cfg.seed}, '
                f'deterministic: {args.deterministic}')
    if lock.stale:
        logger.warning(f"work_dir lock of PID {lock.stale.get('pid')} on "
                       f"host {lock.stale.get('host')} (started "
                       f"{lock.stale.get('started')}) was stale: that run "
                       'ended without releasing it; taken over')
    return argparse.Namespace(timestamp=timestamp, handler=handler,
                              env_info=env_info)


if __name__ == '__main__':
    main()
