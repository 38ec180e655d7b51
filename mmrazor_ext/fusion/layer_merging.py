"""Layer merging (DepthShrinker, Fu et al., ICML 2022): remove the
nonlinearities inside a block, fine-tune, then merge the now linear chain
(BN folded; the residual identity as a kernel) into one conv.

Mergeable chains: 1x1 convs (stride 1, no groups) around at most one
spatial conv (dense or grouped), as in MobileNetV2's inverted residuals
(pointwise - depthwise - pointwise) and ResNet Bottlenecks. Two spatial
convs in a row (BasicBlock's 3x3 - 3x3) are not one conv at the image
borders under zero padding, so they are never merged.

Rule: a chain is a candidate only when its merged conv has no more FLOPs
than the chain it replaces (counted at the trace input size): MobileNetV2's
pw-dw-pw becomes a smaller dense 3x3 conv, a Bottleneck usually does not.
"""
from dataclasses import dataclass
from typing import List, Sequence

import torch
from torch import nn

from ..utils import UserInputError
from .bn_folding import fold_bn
from .linear_chain import LinearChainBlock, MergedConvBlock
from .module_paths import set_submodule
from .tracing import trace_layers


@dataclass
class ChainInfo:
    """A block whose inner nonlinearities may go."""
    name: str
    act: str  # module whose (input, output) scores the nonlinearity
    flops: int
    merged_flops: int


def _norm(cm):
    return getattr(cm, cm.norm_name) if getattr(cm, 'with_norm', False) \
        else nn.Identity()


def _chain_parts(block):
    """``(layers, identity, shortcut, act)`` of a block, or None."""
    if getattr(block, 'use_res_connect', None) is not None and \
            isinstance(getattr(block, 'conv', None), nn.Sequential) and all(
                hasattr(cm, 'conv') for cm in block.conv):
        layers = [m for cm in block.conv for m in (cm.conv, _norm(cm))]
        return layers, bool(block.use_res_connect), None, None
    if all(hasattr(block, a) for a in ('conv1', 'conv2', 'conv3',
                                       'downsample', 'relu')):
        layers = [block.conv1, block.norm1, block.conv2, block.norm2,
                  block.conv3, block.norm3]
        ds = block.downsample
        return layers, ds is None, ds, block.relu
    return None


def _mergeable(layers) -> bool:
    convs = [m for m in layers if isinstance(m, nn.Conv2d)]
    spatial = [c for c in convs if c.kernel_size != (1, 1)]
    if len(spatial) > 1 or any(
            c.stride != (1, 1) or c.groups != 1 or c.padding != (0, 0)
            for c in convs if c.kernel_size == (1, 1)):
        return False
    return all(c.dilation == (1, 1) and c.padding_mode == 'zeros'
               for c in convs)


def merge_candidates(model: nn.Module, input_shape) -> List[ChainInfo]:
    """Blocks whose linearised chain merges into a conv with no more FLOPs
    (in forward order)."""
    found = {}
    for name, m in model.named_modules():
        parts = _chain_parts(m)
        if parts is not None and _mergeable(parts[0]):
            found[name] = m
    if not found:
        return []
    trace = trace_layers(model, input_shape)
    out = []
    for name, m in found.items():
        calls = [c for c in trace.calls if c.name.startswith(name + '.')
                 and c.kind == 'conv' and '.downsample' not in c.name]
        if not calls:
            continue
        convs = [model.get_submodule(c.name) for c in calls]
        k = max(c.kernel_size[0] * c.kernel_size[1] for c in convs)
        oh_ow = calls[-1].out_shape[2] * calls[-1].out_shape[3]
        merged = oh_ow * convs[0].in_channels * convs[-1].out_channels * k
        flops = sum(c.flops for c in calls)
        act = f'{name}.conv.0.activate' if hasattr(m, 'use_res_connect') \
            else name
        if merged <= flops:
            out.append(ChainInfo(name, act, flops, merged))
    return out


def linearize(model: nn.Module, chains: Sequence[ChainInfo]) -> None:
    """Replace each chain's block by a :class:`LinearChainBlock` with the
    same convs and norms and no nonlinearity between them."""
    for info in chains:
        block = model.get_submodule(info.name)
        parts = _chain_parts(block)
        if parts is None:
            raise UserInputError(f'{info.name} is not a mergeable block')
        layers, identity, shortcut, act = parts
        set_submodule(model, info.name, LinearChainBlock(
            nn.Sequential(*layers), identity, shortcut, act))


def _dense(conv: nn.Conv2d) -> torch.Tensor:
    """A grouped conv's weight as the dense ``[out, in, kh, kw]`` one."""
    w, g = conv.weight.detach(), conv.groups
    if g == 1:
        return w
    out, per_in = w.shape[0], w.shape[1]
    dense = w.new_zeros(out, per_in * g, *w.shape[2:])
    per_out = out // g
    for i in range(g):
        dense[i * per_out:(i + 1) * per_out,
              i * per_in:(i + 1) * per_in] = w[i * per_out:(i + 1) * per_out]
    return dense


def merge_block(block: nn.Module, input_shape) -> MergedConvBlock:
    """The one-conv equivalent of a :class:`LinearChainBlock` (eval-mode
    outputs equal up to float rounding).

    Args:
        block: A linearised block.
        input_shape: ``(C, H, W)`` of the block's input (for BN folding's
            trace).

    Raises:
        UserInputError: ``block`` still has a nonlinearity between its
            convs (it was not linearised), or its chain is not mergeable.
    """
    if not isinstance(block, LinearChainBlock):
        raise UserInputError(
            f'cannot merge {type(block).__name__}: it has a nonlinearity '
            'between its convs (linearise it and fine-tune first)')
    if not _mergeable(list(block.chain)):
        raise UserInputError('cannot merge a chain with more than one '
                             'spatial conv or a strided / grouped 1x1 conv')
    chain, _ = fold_bn(block.chain.eval(), input_shape,
                       forward_fn=lambda m, x: m(x))
    convs = [m for m in chain if isinstance(m, nn.Conv2d)]
    weight, stride, padding = None, (1, 1), (0, 0)
    for conv in convs:  # compose: W_new[o, i] = W[o, m] (*) W_old[m, i]
        w = _dense(conv)
        if conv.kernel_size != (1, 1):
            stride, padding = conv.stride, conv.padding
        if weight is None:
            weight = w
        elif w.shape[2:] == (1, 1):
            weight = torch.einsum('om,mihw->oihw', w[:, :, 0, 0], weight)
        else:
            weight = torch.einsum('omhw,mi->oihw', w, weight[:, :, 0, 0])
    if block.identity:
        k = weight.shape[2:]
        eye = torch.eye(weight.shape[0], dtype=weight.dtype)
        weight = weight.clone()
        weight[:, :, k[0] // 2, k[1] // 2] += eye
    merged = MergedConvBlock(weight.clone(), stride, padding, chain,
                             block.shortcut, block.act)
    param = next(chain.parameters())
    merged._bias(param.new_zeros(1, *input_shape))  # cached for this size
    return merged


def merge_model(model: nn.Module, input_shape) -> nn.Module:
    """Merge every :class:`LinearChainBlock` of ``model`` in place."""
    blocks = [(n, m) for n, m in model.named_modules()
              if isinstance(m, LinearChainBlock)]
    if not blocks:
        return model
    shapes = {}
    hooks = [m.register_forward_pre_hook(
        lambda mod, args, n=n: shapes.setdefault(
            n, tuple(args[0].shape)) and None)
        for n, m in blocks]
    try:
        trace_layers(model, input_shape)
    finally:
        for h in hooks:
            h.remove()
    for name, block in blocks:
        merged = merge_block(block, shapes[name][1:])
        set_submodule(model, name, merged.train(block.training))
    return model
