"""Evaluate a checkpoint on a config's test set (one or several processes).

The only weights loaded are those of the ``checkpoint`` argument;
``load_from`` and ``resume_from`` in the config are ignored here. For an
algorithm config (``algorithm=...``) the checkpoint may be the algorithm's
own (``architecture.model.*`` keys, as ``tools/train.py`` saves it) or a
plain classifier's; ``--subnet`` applies a pruned subnet JSON first.
"""
import argparse
import os.path as osp

import mmcv
import numpy as np
import torch.distributed as dist
from mmcls.datasets import build_dataloader, build_dataset
from mmcls.utils import get_root_logger
from mmcv import DictAction
from mmcv.runner import get_dist_info, load_state_dict

from mmrazor_ext.apis import (build_model, check_checkpoint,
                              check_data_paths, load_config,
                              multi_process_test, setup_device,
                              single_device_test, wrap_model)
from mmrazor_ext.apis.cli import (add_launch_args, exit_on_user_error,
                                  parse_launch_args)
from mmrazor_ext.apis.train import loader_settings
from mmrazor_ext.utils import UserInputError, atomic_write


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file to evaluate')
    parser.add_argument('--metrics', nargs='+', default=['accuracy'],
                        help='dataset.evaluate metrics, e.g. accuracy '
                        'precision recall f1_score')
    parser.add_argument('--metric-options', nargs='+', action=DictAction,
                        default={}, help='e.g. topk=1,5')
    parser.add_argument('--out', help='write metrics and predictions to '
                        'this .json or .pkl file')
    parser.add_argument('--subnet', help='subnet JSON of a pruned model '
                        '(algorithm configs only)')
    add_launch_args(parser)
    return parse_launch_args(parser, argv)


def prepare(args):
    """Config, model with weights, and test loader; nothing written."""
    cfg = load_config(args.config, args.cfg_options)
    if args.subnet:
        if 'algorithm' not in cfg:
            raise UserInputError(f'--subnet needs an algorithm config; '
                                 f'{args.config} has none')
        if not osp.isfile(args.subnet):
            raise UserInputError(f'subnet file {args.subnet} not found')
        cfg.algorithm.subnet = args.subnet
        cfg.algorithm.pretrained = None  # the checkpoint has the weights
    if args.out and osp.splitext(args.out)[1] not in ('.json', '.pkl'):
        raise UserInputError(f'--out {args.out}: use a .json or .pkl file')
    check_data_paths(cfg)
    ckpt = check_checkpoint(args.checkpoint, 'test')
    distributed = setup_device(cfg, args.launcher)

    dataset = build_dataset(cfg.data.test, dict(test_mode=True))
    loader_cfg = {**loader_settings(cfg, distributed, len(cfg.gpu_ids)),
                  'shuffle': False, 'sampler_cfg': None, 'round_up': True,
                  **cfg.data.get('test_dataloader', {})}
    loader = build_dataloader(dataset, **loader_cfg)

    model = build_model(cfg)
    load_weights(model, ckpt, args.checkpoint)
    return cfg, distributed, dataset, loader, model


def load_weights(model, ckpt, path):
    """Load strictly; a classifier checkpoint fits an algorithm too."""
    state = ckpt.get('state_dict', ckpt)
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
    target = model
    if hasattr(model, 'architecture') and \
            not any(k.startswith('architecture.') for k in state):
        target = model.architecture.model
    try:
        load_state_dict(target, state, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0][:300]
        raise UserInputError(f'checkpoint {path} does not fit the model: '
                             f'{first}') from e


def write_atomic(obj, path):
    """mmcv.dump (.json or .pkl) through a temporary file, so a failure
    keeps the old one."""
    file_format = osp.splitext(path)[1][1:]
    atomic_write(path, lambda tmp: mmcv.dump(obj, tmp,
                                             file_format=file_format))


def main(argv=None):
    args = parse_args(argv)
    cfg, distributed, dataset, loader, model = exit_on_user_error(
        'test.py', prepare, args)

    logger = get_root_logger()
    model = wrap_model(model, cfg.device, distributed)
    if distributed:
        outputs = multi_process_test(model, loader)
    else:
        outputs = single_device_test(model, loader)
    rank = get_dist_info()[0]
    if rank == 0:
        print()
        results = dataset.evaluate(outputs, metric=args.metrics,
                                   metric_options=args.metric_options,
                                   logger=logger)
        for name, value in results.items():
            logger.info(f'{name}: {value:.2f}')
        if args.out:
            scores = np.vstack(outputs)
            write_atomic(dict(config=args.config,
                              checkpoint=args.checkpoint,
                              metrics={k: float(v)
                                       for k, v in results.items()},
                              pred_label=scores.argmax(1).tolist(),
                              pred_score=scores.max(1).tolist()), args.out)
            logger.info(f'results written to {args.out}')
    if distributed:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
