"""Evaluate a checkpoint on a config's test set (one or several processes).

Classifiers (top-1/top-5 accuracy) and mmseg segmentors (mIoU by
default, ``--metrics mIoU mDice mFscore``) alike.

The only weights loaded are those of the ``checkpoint`` argument;
``load_from`` and ``resume_from`` in the config are ignored here. For an
algorithm config (``algorithm=...``) the checkpoint may be the algorithm's
own (``architecture.model.*`` keys, as ``tools/train.py`` saves it) or a
plain classifier's; ``--subnet`` applies a pruned subnet JSON first. An
algorithm checkpoint that holds a subnet is evaluated with it; ``--subnet``
must then be that same subnet (another one is a one-line error). A model
file the hooks write (``pruned_model.pth``, ``fused_model.pth``,
``deploy_model.pth``) is rebuilt from the config and its structure
(``mmrazor_ext.apis.load_pruned``, ``weights_only=True``).
"""
import os.path as osp

import mmrazor_ext  # noqa: F401  first: quiets known-harmless warnings
import mmcv
import numpy as np
import torch.distributed as dist
from mmcv.runner import get_dist_info

from mmrazor_ext.apis import (build_dataloader, build_dataset,
                              check_checkpoint, check_data_paths,
                              check_eval_metrics, default_metrics,
                              load_config,
                              multi_process_test, setup_device,
                              single_device_test, wrap_model)
from mmrazor_ext.apis.cli import (KeyValueAction, ToolParser,
                                  add_launch_args, exit_on_user_error,
                                  parse_launch_args)
from mmrazor_ext.apis.console import console_logger
from mmrazor_ext.apis.model_loading import build_for_inference, with_subnet
from mmrazor_ext.apis.run_checks import check_metric_options
from mmrazor_ext.apis.train import loader_settings
from mmrazor_ext.utils import UserInputError, atomic_write


def parse_args(argv=None):
    parser = ToolParser(prog='test.py',
                        description=__doc__.splitlines()[0])
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file to evaluate')
    parser.add_argument('--metrics', nargs='+', default=None,
                        help='dataset.evaluate metrics, e.g. accuracy '
                        'precision recall f1_score (default accuracy; '
                        'segmentation: mIoU)')
    parser.add_argument('--metric-options', nargs='+', action=KeyValueAction,
                        default={}, help='e.g. topk=1,5 (classification: '
                        'topk, thrs, average_mode)')
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
        with_subnet(cfg, args.subnet, args.config)  # checked before work
    if args.out and osp.splitext(args.out)[1] not in ('.json', '.pkl'):
        raise UserInputError(f'--out {args.out}: use a .json or .pkl file')
    if args.metrics is None:
        args.metrics = default_metrics(cfg.data.test)
    check_eval_metrics(cfg.data.test, args.metrics, '--metrics')
    if args.metric_options:
        args.metric_options = check_metric_options(
            cfg, args.metric_options, '--metric-options')
    check_data_paths(cfg)
    ckpt = check_checkpoint(args.checkpoint, 'test')
    distributed = setup_device(cfg, args.launcher)

    dataset = build_dataset(cfg.data.test, dict(test_mode=True))
    loader_cfg = {**loader_settings(cfg, distributed, len(cfg.gpu_ids)),
                  'shuffle': False, 'sampler_cfg': None, 'round_up': True,
                  **cfg.data.get('test_dataloader', {})}
    loader = build_dataloader(dataset, **loader_cfg)

    model, _ = build_for_inference(cfg, args.checkpoint, args.subnet,
                                   args.config, 'test', ckpt)
    return cfg, distributed, dataset, loader, model


def write_atomic(obj, path):
    """mmcv.dump (.json or .pkl) through a temporary file, so a failure
    keeps the old one."""
    file_format = osp.splitext(path)[1][1:]
    atomic_write(path, lambda tmp: mmcv.dump(obj, tmp,
                                             file_format=file_format))


def main(argv=None):
    args = parse_args(argv)
    logger = console_logger()
    cfg, distributed, dataset, loader, model = exit_on_user_error(
        'test.py', prepare, args)

    model = wrap_model(model, cfg.device, distributed)
    if distributed:
        outputs = multi_process_test(model, loader)
    else:
        outputs = single_device_test(model, loader)
    rank = get_dist_info()[0]
    if rank == 0:
        seg = hasattr(dataset, 'get_gt_seg_maps')  # mmseg: maps, no scores
        options = {} if seg else dict(metric_options=args.metric_options)
        results = dataset.evaluate(outputs, metric=args.metrics,
                                   logger=logger, **options)
        for name, value in results.items():
            logger.info(f'{name}: {value:.2f}')
        if args.out:
            out = dict(config=args.config, checkpoint=args.checkpoint,
                       metrics={k: float(v) for k, v in results.items()})
            if not seg:
                scores = np.vstack(outputs)
                out.update(pred_label=scores.argmax(1).tolist(),
                           pred_score=scores.max(1).tolist())
            write_atomic(out, args.out)
            logger.info(f'results written to {args.out}')
    if distributed:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
