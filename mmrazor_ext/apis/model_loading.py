"""The model a config and a weights file describe, for ``tools/test.py``
and ``tools/deploy.py``: a training checkpoint (a classifier's or
segmentor's, or an algorithm's holding its subnet / fusion record), or a
model file (``pruned_model.pth``, ``fused_model.pth``,
``deploy_model.pth``: weights plus the structure, see
``mmrazor_ext.deploy.weight_files``), loaded with ``weights_only=True``.
"""
import copy
import os.path as osp

import torch
from mmcv import Config
from mmcv.runner import load_state_dict

from ..deploy.weight_files import is_model_file, read_model_file
from ..utils import UserInputError, check_checkpoint, state_dict_mismatch
from .build import build_model


def checkpoint_state(ckpt):
    """The weights of a checkpoint, without a DDP ``module.`` prefix."""
    state = ckpt.get('state_dict', ckpt)
    return {k[7:] if k.startswith('module.') else k: v
            for k, v in state.items()}


def check_subnet_held(model, state, subnet_path, checkpoint_path):
    """``state`` to load with ``--subnet``: a checkpoint that holds another
    subnet is refused (its own would replace the given one as it loads);
    one whose ``pruned_keep`` keeps everything (no prune step ran) takes
    the given subnet."""
    saved_structure = getattr(model, 'saved_structure', None)
    if saved_structure is None:
        return state
    held, exported = saved_structure(state)
    given = model.pruned_keep.cpu()
    if held is None or torch.equal(held, given):
        return state
    if held.all() and not exported:
        return {**state, 'pruned_keep': given.clone()}
    n_given, total, flops_given = subnet_size(model.pruner, given)
    n_held, _, flops_held = subnet_size(model.pruner, held)
    raise UserInputError(
        f'--subnet {subnet_path} differs from the subnet checkpoint '
        f'{checkpoint_path} holds (it keeps {n_given} of {total} channels, '
        f'{flops_given:.1%} of the FLOPs; the checkpoint {n_held}, '
        f"{flops_held:.1%}); drop --subnet to evaluate the checkpoint's own")


def subnet_size(pruner, keep):
    """``(channels kept, prunable channels, fraction of FLOPs kept)``."""
    kept = total = 0
    for sp in pruner.prunable_spaces:
        units = keep[sp.offset:sp.offset + sp.num_channels]
        kept += int(units.sum()) * sp.channels_per_unit
        total += sp.num_channels * sp.channels_per_unit
    flops = pruner.flops_params(pruner.subnet_from_keep(keep))[0]
    return kept, total, flops / pruner.flops_params({})[0]


def load_weights(model, state, path):
    """Load strictly; a classifier checkpoint fits an algorithm too. A
    mismatch names the first differing keys."""
    target = model
    if hasattr(model, 'architecture') and \
            not any(k.startswith('architecture.') for k in state):
        target = model.architecture.model
    try:
        load_state_dict(target, state, strict=True)
    except RuntimeError as e:
        # an algorithm has taken the checkpoint's structure by now
        what = state_dict_mismatch(target.state_dict(), state) or \
            str(e).strip().splitlines()[0][:300]
        raise UserInputError(f'checkpoint {path} does not fit the model '
                             f'({what})') from e


def with_subnet(cfg, subnet_path, config_path='the config'):
    """A copy of ``cfg`` whose algorithm applies ``subnet_path`` when it is
    built (and loads no pretrained weights: the checkpoint has them)."""
    if 'algorithm' not in cfg:
        raise UserInputError(f'--subnet needs an algorithm config; '
                             f'{config_path} has none')
    if not osp.isfile(subnet_path):
        raise UserInputError(f'subnet file {subnet_path} not found')
    cfg = copy.deepcopy(cfg)
    cfg.algorithm.subnet = subnet_path
    cfg.algorithm.pretrained = None
    return cfg


def load_pruned(config, file, payload=None):
    """The model a model file holds (see :func:`rebuild_model_file`)."""
    return rebuild_model_file(config, file, payload)[1]


def rebuild_model_file(config, file, payload=None):
    """The model a model file holds, rebuilt from its config and structure,
    weights loaded strictly; nothing is unpickled.

    Args:
        config: The run's config (a path or an mmcv ``Config``); None
            takes the config text the file carries.
        file: ``pruned_model.pth``, ``fused_model.pth`` or
            ``deploy_model.pth`` as the tools write them.
        payload: The file's content, when already read.

    Returns:
        ``(algorithm, model)``: the algorithm built from the config, with
        the file's structure, and the exported model (an ordinary
        classifier / segmentor module, in eval mode) equal to the one
        saved.

    Examples:
        >>> model = load_pruned('configs/one_shot/one-shot-cdp_...py',
        ...                     'work_dirs/.../pruned_model.pth')
    """
    payload = payload or read_model_file(file)
    if config is None:
        if not payload.get('config'):
            raise UserInputError(f'model file {file} carries no config: '
                                 'give the config it was written from')
        config = Config.fromstring(payload['config'], '.py')
    elif not isinstance(config, Config):
        if not osp.isfile(config):
            raise UserInputError(f'config file {config} not found')
        config = Config.fromfile(config)
    if 'algorithm' not in config:
        raise UserInputError(f'model file {file} holds a pruned or fused '
                             'model: give the algorithm config it was '
                             'written from (the config has no algorithm)')
    cfg = copy.deepcopy(config)
    for key in ('pretrained', 'subnet'):  # the file has both
        if cfg.algorithm.get(key) is not None:
            cfg.algorithm[key] = None
    algo = build_model(cfg)
    structure = payload['structure']
    check_fusion_record(algo, structure, file)
    algo.load_structure(structure)
    keep = structure.get('pruned_keep')
    if keep is not None and keep.numel() != algo.pruned_keep.numel():
        raise UserInputError(
            f'model file {file} does not fit the config: its subnet has '
            f'{keep.numel()} prunable units, the config\'s model '
            f'{algo.pruned_keep.numel()}')
    model = algo.export_model()
    if payload.get('bn_folded'):
        from ..fusion import fold_bn
        model, _ = fold_bn(model, payload.get('input_shape') or
                           algo.pruner.input_shape)
    try:
        load_state_dict(model, payload['state_dict'], strict=True)
    except RuntimeError as e:
        what = state_dict_mismatch(model.state_dict(),
                                   payload['state_dict']) or str(e)[:300]
        raise UserInputError(f'model file {file} does not fit the model its '
                             f'config rebuilds ({what})') from e
    return algo, model.eval()


def check_fusion_record(algo, structure, file) -> None:
    """The model file's fusion record (removed blocks, linearised chains)
    is one of the algorithm built from the config; one line otherwise."""
    for key in ('fusion_removed', 'fusion_linear'):
        theirs, ours = structure.get(key), getattr(algo, key, None)
        if (theirs is None) != (ours is None) or (
                theirs is not None and theirs.numel() != ours.numel()):
            raise UserInputError(
                f'model file {file} does not fit the config: its {key} '
                'record is not one of the config\'s model')


def build_for_inference(cfg, checkpoint, subnet=None, config_path=None,
                        what='the', ckpt=None):
    """The model of ``cfg`` with the weights of ``checkpoint``: a model
    file rebuilt by :func:`load_pruned`, or the config's model (its
    algorithm, applying ``subnet``) with a training checkpoint's weights.

    Args:
        cfg: The config (mmcv ``Config``).
        checkpoint: Path of the weights file.
        subnet: Subnet JSON to apply to a training checkpoint's model.
        config_path: The config's path, for messages.
        what: How messages name the checkpoint (``'test'``...).
        ckpt: The checkpoint's content, when already loaded by
            ``check_checkpoint``.

    Returns:
        ``(model, algorithm)``: the model to run (a model file's exported
        model, else the config's model: an algorithm or a plain
        classifier / segmentor) and the algorithm behind it (None for a
        plain model).
    """
    if ckpt is None:
        ckpt = check_checkpoint(checkpoint, what)
    if is_model_file(ckpt):
        if subnet:
            raise UserInputError(f'--subnet does not apply to model file '
                                 f'{checkpoint}: it holds its structure')
        algo, model = rebuild_model_file(cfg, checkpoint, ckpt)
        return model, algo
    cfg = copy.deepcopy(cfg)
    if cfg.get('algorithm', {}).get('pretrained') is not None:
        cfg.algorithm.pretrained = None  # the checkpoint has every weight
    if subnet:
        cfg = with_subnet(cfg, subnet, config_path or 'the config')
    model = build_model(cfg)
    state = checkpoint_state(ckpt)
    if subnet:
        state = check_subnet_held(model, state, subnet, checkpoint)
    load_weights(model, state, checkpoint)
    return model, (model if hasattr(model, 'pruner') else None)
