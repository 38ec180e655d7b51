"""What the tracer learns about each conv / linear / norm layer."""
from dataclasses import dataclass, field
from typing import List, Optional

from torch import Tensor


@dataclass
class LayerRecord:
    """One recognised layer, as seen in the traced forward pass.

    ``in_ids`` / ``out_ids`` give, for each input / output channel, the
    channel element it carries (-1 for none). After grouping they are
    replaced by ``in_pos`` / ``out_pos``: the global unit index of each
    channel in the prunable spaces, -1 where the channel is never pruned.
    """
    name: str
    kind: str  # 'conv', 'linear', 'norm', 'group_norm' or 'param'
    in_channels: int = 0
    out_channels: int = 0
    groups: int = 1
    kernel: int = 1  # kernel elements per (in, out) channel pair
    has_bias: bool = False
    affine: bool = False
    tied: bool = False  # grouped conv whose outputs follow its inputs
    produces: bool = False  # outputs are new channel elements
    out_ndim: int = 4
    # norms: the channel dim of the input / output and how the norm treats
    # channels ('' per channel, see ``norm_masks``); 'param' records (a
    # parameter following channels, e.g. a layer scale): the dim sliced
    chan_dim: int = 1
    norm_mode: str = ''
    param_dim: int = 0
    # output elements per sample / out channels, one entry per call
    positions_per_channel: List[int] = field(default_factory=list)
    in_key: object = None
    out_key: object = None
    in_ids: Optional[Tensor] = None
    out_ids: Optional[Tensor] = None
    in_pos: Optional[Tensor] = None
    out_pos: Optional[Tensor] = None
