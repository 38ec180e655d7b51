"""Score the layers of a classifier with one metric and plot the scores.

Writes into ``--out-dir``: ``scores.json`` (raw scores per layer), one PNG
per layer (sorted score curve; for CDPMetric also the class x channel TF-IDF
heat map) and ``all_layers.png`` (every layer's sorted, max-normalised
curve, coloured by depth, with a legend). Feature metrics run the model on
``--num-images`` images of the config's ``--split`` with the test pipeline
(labels kept for CDP/Taylor).

Example:
    python tools/visualize_scores.py configs/resnet/x.py CDPMetric \
        --checkpoint work_dirs/x/latest.pth --out-dir work_dirs/x/scores
"""
import copy
import math
import os
import os.path as osp
import sys

import matplotlib

matplotlib.use('Agg')  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import torch  # noqa: E402
import mmrazor_ext  # noqa: E402,F401  before mmcv: known warnings quiet
from mmcls.datasets import build_dataloader, build_dataset  # noqa: E402
from mmcls.models import build_classifier  # noqa: E402
from mmcv.runner import load_checkpoint  # noqa: E402

from mmrazor_ext.apis import (auto_device, check_checkpoint,  # noqa: E402
                              load_config)
from mmrazor_ext.apis.cli import KeyValueAction, ToolParser  # noqa: E402
from mmrazor_ext.metrics import (CDPMetric, build_metric,  # noqa: E402
                                 collect_scores, collect_statistics)
from mmrazor_ext.metrics.base_metric import WEIGHT_KINDS  # noqa: E402
from mmrazor_ext.utils import UserInputError, write_json  # noqa: E402

MAX_LEGEND = 48  # layer names listed beside all_layers.png's axes


def parse_args(argv=None):
    parser = ToolParser(prog='visualize_scores.py',
                        description=__doc__.splitlines()[0])
    parser.add_argument('config', help='mmcls config of the model and data')
    parser.add_argument('metric', help='registered metric, e.g. CDPMetric')
    parser.add_argument('--checkpoint', help='weights to score (default: '
                        'the initialised model)')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument('--layers', nargs='+', help='module names to score '
                        '(default: every norm layer, or the metric kind\'s '
                        'default)')
    parser.add_argument('--split', default='train',
                        choices=['train', 'val', 'test'])
    parser.add_argument('--num-images', type=int, default=512)
    parser.add_argument('--batch-size', type=int, help='default: '
                        'data.samples_per_gpu of the config')
    parser.add_argument('--metric-options', nargs='+', action=KeyValueAction,
                        default={}, help='metric arguments, key=value')
    parser.add_argument('--cfg-options', nargs='+', action=KeyValueAction,
                        help='override config keys, key=value')
    parser.add_argument('--device', help='default: cuda if visible')
    return parser.parse_args(argv)


def build_loader(cfg, split, batch_size, device):
    """Data loader over ``split`` with the test pipeline, keeping labels."""
    data_cfg = copy.deepcopy(cfg.data[split])
    pipeline = copy.deepcopy(cfg.data.test.pipeline)
    collect = [s for s in pipeline if s['type'] == 'Collect']
    if not collect:
        raise UserInputError('data.test.pipeline has no Collect step')
    if 'gt_label' not in collect[0]['keys']:
        collect[0]['keys'] = list(collect[0]['keys']) + ['gt_label']
        pipeline.insert(pipeline.index(collect[0]),
                        dict(type='ToTensor', keys=['gt_label']))
    data_cfg.pipeline = pipeline
    dataset = build_dataset(data_cfg)
    return build_dataloader(
        dataset, batch_size or cfg.data.samples_per_gpu,
        cfg.data.get('workers_per_gpu', 0), dist=False, shuffle=False,
        pin_memory=str(device).startswith('cuda'), persistent_workers=False)


def score(args, cfg):
    """``(scores, cdp matrices or {})`` of the chosen layers."""
    model = build_classifier(cfg.model)
    if args.checkpoint:
        check_checkpoint(args.checkpoint, 'scored')
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    device = args.device or auto_device()
    model.to(device)
    metric = build_metric(dict(type=args.metric, **args.metric_options))
    if metric.input_kind in WEIGHT_KINDS:
        return collect_scores(model, metric, layers=args.layers), {}
    loader = build_loader(cfg, args.split, args.batch_size, device)
    num_batches = math.ceil(args.num_images / loader.batch_size)
    collectors = collect_statistics(model, metric, loader, args.layers,
                                    num_batches, device)
    scores, matrices = {}, {}
    for name, collector in collectors.items():
        if isinstance(metric, CDPMetric):
            matrices[name], scores[name] = metric.tfidf(
                collector.reduced_stats())
        else:
            scores[name] = collector.compute()
    return scores, matrices


def plot_layer(path, name, scores, matrix=None):
    ncols = 1 if matrix is None else 2
    fig, axes = plt.subplots(1, ncols, figsize=(6 * ncols, 4), squeeze=False)
    ax = axes[0, 0]
    values = torch.as_tensor(scores).float().sort(descending=True).values
    ax.plot(values.numpy(), marker='.' if len(values) <= 64 else None)
    ax.set(title=f'{name}: sorted scores', xlabel='channel rank',
           ylabel='score')
    ax.grid(alpha=.3)
    if matrix is not None:
        image = axes[0, 1].imshow(matrix.float().numpy(), aspect='auto',
                                  cmap='viridis', interpolation='nearest')
        axes[0, 1].set(title='CDP TF-IDF (class x channel)',
                       xlabel='channel', ylabel='class')
        fig.colorbar(image, ax=axes[0, 1])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def figure_all(scores, metric):
    """Every layer's sorted curve, divided by its max |score|, coloured by
    depth (the order the layers were scored in: first dark, last yellow)
    with a colour bar, and a legend of the layer names beside the axes
    (up to ``MAX_LEGEND`` layers; the colour bar alone beyond)."""
    names = list(scores)
    colours = plt.get_cmap('viridis')(
        [i / max(len(names) - 1, 1) for i in range(len(names))])
    parts = [n.split('.') for n in names]
    prefix = osp.commonprefix(parts)[:min(map(len, parts), default=1) - 1]
    fig, ax = plt.subplots(figsize=(10, 5), layout='constrained')
    for name, colour in zip(names, colours):
        value = scores[name].float().sort(descending=True).values
        top = value.abs().max().clamp_min(1e-12)
        ax.plot(torch.linspace(0, 1, len(value)).numpy(),
                (value / top).numpy(), lw=.9, color=colour,
                label='.'.join(name.split('.')[len(prefix):]))
    ax.set(title=f'{metric}: sorted scores / max |score| per layer',
           xlabel='channel rank (fraction)', ylabel='normalised score')
    ax.grid(alpha=.3)
    depth = ScalarMappable(Normalize(1, max(len(names), 2)), 'viridis')
    bar = fig.colorbar(depth, ax=ax, pad=0.01,
                       label=f'layer depth (1 = first of {len(names)})')
    bar.locator = MaxNLocator(integer=True)
    bar.update_ticks()
    if len(names) <= MAX_LEGEND:
        fig.legend(loc='outside right upper', fontsize=7,
                   ncols=1 if len(names) <= MAX_LEGEND // 2 else 2,
                   title='.'.join(prefix) + '.' if prefix else None,
                   title_fontsize=7)
    return fig


def plot_all(path, scores, metric):
    fig = figure_all(scores, metric)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    try:
        cfg = load_config(args.config, args.cfg_options)
        scores, matrices = score(args, cfg)
    except (UserInputError, ValueError, KeyError, TypeError) as e:
        sys.exit(f'visualize_scores: {str(e).strip(chr(34) + chr(39))}')
    os.makedirs(args.out_dir, exist_ok=True)
    for name, value in scores.items():
        plot_layer(osp.join(args.out_dir, f'{name}.png'), name, value,
                   matrices.get(name))
    plot_all(osp.join(args.out_dir, 'all_layers.png'), scores, args.metric)
    write_json(dict(
        metric=args.metric, metric_options=args.metric_options,
        config=args.config, checkpoint=args.checkpoint, split=args.split,
        num_images=args.num_images,
        scores={k: v.tolist() for k, v in scores.items()},
        cdp_tfidf={k: v.tolist() for k, v in matrices.items()}),
        osp.join(args.out_dir, 'scores.json'))
    print(f'{len(scores)} layers scored with {args.metric}; plots and '
          f'scores.json in {args.out_dir}')


if __name__ == '__main__':
    main()
