"""The prunable channel spaces of a traced model as a table: names, sizes,
offsets of their units in the keep vector, and the conversions between a
subnet ``{space: kept indices}`` and that vector (one bool per prunable
unit)."""
import warnings
from typing import Dict, List

import torch
from torch import Tensor

from .subnet_io import (check_subnet, load_subnet, save_subnet,
                        spaces_left_out)

Subnet = Dict[str, List[int]]


class SpaceTable:
    """The spaces of one trace, in forward order.

    Args:
        spaces: every :class:`ChannelSpace`, prunable or not; the prunable
            ones' ``offset`` s number their units ``0..num_units-1``.
        num_units: units of all prunable spaces.
    """

    def __init__(self, spaces: List = (), num_units: int = 0):
        self.spaces = list(spaces)
        self.num_units = int(num_units)
        self.prunable = [sp for sp in self.spaces if sp.prunable]

    def sizes(self) -> Dict[str, int]:
        """``{space: units}`` of the prunable spaces, in order."""
        return {sp.name: sp.num_channels for sp in self.prunable}

    def names(self) -> List[str]:
        return [sp.name for sp in self.prunable]

    @staticmethod
    def as_indices(subnet):
        """Mask tensors (mmrazor style) become index lists."""
        if not isinstance(subnet, dict):
            return subnet
        return {n: (v.flatten().nonzero().flatten().tolist()
                    if isinstance(v, Tensor) and v.dtype != torch.long
                    else v) for n, v in subnet.items()}

    def check(self, subnet) -> Subnet:
        """``subnet`` (indices or 0/1 masks) checked against the spaces."""
        return check_subnet(self.as_indices(subnet), self.sizes())

    def keep_from(self, subnet) -> Tensor:
        """The keep vector of ``subnet``; spaces it leaves out keep all
        their units. Checked in full first."""
        subnet = self.check(subnet)
        keep = torch.ones(self.num_units, dtype=torch.bool)
        for sp in self.prunable:
            if sp.name in subnet:
                k = torch.zeros(sp.num_channels, dtype=torch.bool)
                k[subnet[sp.name]] = True
                keep[sp.offset:sp.offset + sp.num_channels] = k
        return keep

    def subnet_from(self, keep: Tensor) -> Subnet:
        """``{space: kept indices}`` of a keep vector."""
        keep = keep.cpu().bool()
        if keep.numel() != self.num_units:
            raise ValueError(f'keep vector has {keep.numel()} entries, this '
                             f'model has {self.num_units} prunable units')
        return {sp.name: keep[sp.offset:sp.offset + sp.num_channels]
                .nonzero().flatten().tolist() for sp in self.prunable}


    def save(self, subnet, path: str) -> None:
        """Write ``subnet`` as JSON; spaces it leaves out are written as
        ``keep_whole``."""
        save_subnet(self.check(subnet), path, self.sizes())

    def load(self, path: str, drop=None) -> Subnet:
        """Read a subnet file and check it against the spaces (``drop``:
        ``subnet -> subnet`` without spaces to keep whole). Spaces the
        file leaves out without stating them in ``keep_whole`` keep all
        their channels, with a warning naming them."""
        data = load_subnet(path)
        sizes = self.sizes()
        subnet = check_subnet(drop(data.subnet) if drop else data.subnet,
                              sizes, data.num_channels)
        left = spaces_left_out(subnet, sizes, data.keep_whole)
        if left:
            names = ', '.join(left[:3]) + (
                f' and {len(left) - 3} more' if len(left) > 3 else '')
            warnings.warn(f'subnet {path} leaves out {len(left)} of '
                          f'{len(sizes)} prunable spaces, kept whole: '
                          f'{names} (list them in "keep_whole", or write '
                          '"keep_whole": "all_others", to say so)')
        return subnet
