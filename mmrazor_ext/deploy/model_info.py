"""What ``tools/deploy.py`` needs besides export and runtimes: the
unpruned baseline of an algorithm, the check batch (val images or random
ones), FLOPs / params kept, and the ``deploy.json`` it writes."""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from ..adapters import build_loader, predict_forward, split_batch
from ..utils import UserInputError
from .equality import shapes

#: Images in the check batch when ``--shape`` does not say.
CHECK_BATCH = 8


def unpruned_of(model: nn.Module) -> Optional[nn.Module]:
    """An algorithm's unpruned model (the latency and FLOPs baseline), or
    None for a plain model."""
    if hasattr(model, 'unpruned_model'):
        return model.unpruned_model().cpu().eval()
    pruner = getattr(model, 'pruner', None)
    if pruner is not None and hasattr(pruner, 'export'):
        return pruner.export(subnet={}).cpu().eval()
    return None


def input_images(cfg, shape: Optional[Sequence[int]]
                 ) -> Tuple[torch.Tensor, str]:
    """``(images, 'val' | 'random')``: the first val batch of the config
    when it loads and fits ``shape`` (``(N, C, H, W)``; None: the val
    batch's own, at most ``CHECK_BATCH`` images), else random images of
    ``shape`` (None: the pruner's ``input_shape``)."""
    val = _val_batch(cfg)
    if val is not None:
        if shape is None:
            return val[:CHECK_BATCH].contiguous(), 'val'
        if tuple(val.shape[1:]) == tuple(shape[1:]) and \
                len(val) >= shape[0]:
            return val[:shape[0]].contiguous(), 'val'
    if shape is None:
        pruner = cfg.get('algorithm', {}).get('pruner', {})
        if 'input_shape' not in pruner:
            raise UserInputError('the config has no val data to take the '
                                 'input size from: give --shape N C H W')
        shape = (CHECK_BATCH, *pruner['input_shape'])
    gen = torch.Generator().manual_seed(0)
    return torch.randn(*shape, generator=gen), 'random'


def _val_batch(cfg) -> Optional[torch.Tensor]:
    data = cfg.get('data')
    if not data or 'val' not in data:
        return None
    try:
        batch = next(iter(build_loader(data, 'val')))
    except Exception:  # noqa: BLE001  missing files, odd pipelines
        return None
    img, _ = split_batch(batch)
    return img.float() if isinstance(img, torch.Tensor) else None


def check_images(model: nn.Module, images: torch.Tensor, shape) -> None:
    """The model runs on ``images``; a one-line error naming ``--shape``
    when it cannot."""
    try:
        with torch.no_grad():
            predict_forward(model, images[:2])
    except Exception as e:  # noqa: BLE001  whatever the model raises
        given = ' '.join(map(str, shape)) if shape is not None else \
            ' '.join(map(str, images.shape))
        first = (str(e).strip().splitlines() or [''])[0][:200]
        raise UserInputError(f'--shape {given}: the model cannot take '
                             f'images of this size ({type(e).__name__}: '
                             f'{first})') from e


def count_model(model: nn.Module, shape: Sequence[int],
                unpruned: Optional[nn.Module] = None) -> dict:
    """FLOPs (multiply-accumulates per image) and params of the inference
    forward, by the Pruner's counter; with ``unpruned``, also its counts
    and the fractions kept."""
    def count(m):  # the one counter, on the inference forward
        from ..pruners import ChannelPruner
        return ChannelPruner(input_shape=tuple(shape),
                             forward_fn=predict_forward).count(m)

    flops, params = count(model)
    out = dict(flops=dict(deployed=flops), params=dict(deployed=params))
    if unpruned is not None:
        full_flops, full_params = count(unpruned)
        out['flops'].update(unpruned=full_flops, kept=flops / full_flops)
        out['params'].update(unpruned=full_params,
                             kept=params / full_params)
    return out


def deploy_json(args, export: dict, folded: int, images, source: str,
                reference, checks: dict, latency: dict, threads: int,
                load: dict, counts: dict, from_file: bool) -> dict:
    """The content of ``deploy.json``."""
    return dict(
        config=args.config, checkpoint=args.checkpoint, subnet=args.subnet,
        checkpoint_kind='model file' if from_file else 'checkpoint',
        onnx=dict(file='model.onnx', **export,
                  output_shapes=shapes(reference)),
        bn_folded=folded,
        check=dict(images=source, batch=len(images),
                   input_shape=list(images.shape),
                   output_max_abs=float(max(np.abs(r).max()
                                            for r in reference)),
                   backends=checks),
        latency_ms=dict(threads=threads, load=load, backends=latency),
        **counts)
