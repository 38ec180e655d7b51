"""DepthShrinker's two module states of a block: linearised (its convs and
BNs with no nonlinearity between them, trained like that) and merged (one
conv, exact for the linearised block)."""
from typing import Optional, Tuple

import torch
from torch import nn


class LinearChainBlock(nn.Module):
    """``act(chain(x) + shortcut(x))`` with no nonlinearity inside
    ``chain`` (a ``Sequential`` of convs and norms).

    Args:
        chain: Convs and BatchNorms, in order.
        identity: Add the block's input (``shortcut`` must be None).
        shortcut: A downsample branch added instead (kept as it is).
        act: The block's output activation (after the add).
    """

    def __init__(self, chain: nn.Sequential, identity: bool = False,
                 shortcut: Optional[nn.Module] = None,
                 act: Optional[nn.Module] = None):
        super().__init__()
        self.chain, self.identity = chain, identity
        self.shortcut = shortcut
        self.act = act if act is not None else nn.Identity()

    def forward(self, x):
        y = self.chain(x)
        if self.identity:
            y = y + x
        elif self.shortcut is not None:
            y = y + self.shortcut(x)
        return self.act(y)


class MergedConvBlock(nn.Module):
    """A merged :class:`LinearChainBlock`: ``act(conv(x) + bias(x) +
    shortcut(x))``.

    The biases of a chain whose first conv is 1x1 reach a padded kxk conv
    only inside the image, so the merged bias varies at the borders: it is
    the linear chain's output on a zero image, computed once per input
    size from ``bias_path`` (the folded chain, not trained) and cached.
    """

    def __init__(self, weight: torch.Tensor, stride, padding,
                 bias_path: nn.Module, shortcut: Optional[nn.Module] = None,
                 act: Optional[nn.Module] = None):
        super().__init__()
        out, inp, kh, kw = weight.shape
        self.conv = nn.Conv2d(inp, out, (kh, kw), stride, padding,
                              bias=False)
        self.conv.weight.data.copy_(weight)
        self.bias_path = bias_path.requires_grad_(False)
        self.shortcut = shortcut
        self.act = act if act is not None else nn.Identity()
        self._bias_key: Optional[Tuple] = None
        self.register_buffer('bias_map', torch.zeros(0), persistent=False)

    def _bias(self, x):
        key = (tuple(x.shape[1:]), x.dtype, str(x.device))
        if key != self._bias_key or self.bias_map.dim() != 4:
            with torch.no_grad():
                self.bias_map = self.bias_path(x.new_zeros(1, *x.shape[1:]))
            self._bias_key = key
        return self.bias_map

    def forward(self, x):
        y = self.conv(x) + self._bias(x)
        if self.shortcut is not None:
            y = y + self.shortcut(x)
        return self.act(y)
