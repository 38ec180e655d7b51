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
The chains are found on the traced graph (``pruners/graph/chains.py``).
"""
from typing import Sequence

import torch
from torch import nn

from ..pruners.graph.chains import ChainInfo, mergeable
from ..pruners.graph.graph_tracer import trace_graph
from ..utils import UserInputError
from .bn_folding import fold_bn
from .linear_chain import LinearChainBlock, MergedConvBlock
from .module_paths import set_submodule


def linearize(model: nn.Module, chains: Sequence[ChainInfo]) -> None:
    """Replace each chain's block by a :class:`LinearChainBlock` with the
    same convs and norms and no nonlinearity between them."""
    for info in chains:
        if not info.layers:
            raise UserInputError(f'{info.name} is not a mergeable block')
        get = model.get_submodule
        set_submodule(model, info.name, LinearChainBlock(
            nn.Sequential(*[get(n) for n in info.layers]), info.identity,
            get(info.shortcut) if info.shortcut else None,
            get(info.block_act) if info.block_act else None))


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
    if not mergeable([m for m in block.chain if isinstance(m, nn.Conv2d)]):
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
    shapes = {c.name: c.in_shape
              for c in trace_graph(model, input_shape).calls}
    for name, block in blocks:
        merged = merge_block(block, shapes[name][1:])
        set_submodule(model, name, merged.train(block.training))
    return model
