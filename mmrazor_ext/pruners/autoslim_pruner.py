"""AutoSlimPruner: mmrazor 0.x's ``StructurePruner`` / ``RatioPruner``
interface that ``AutoSlim`` and the greedy searcher call, on top of a
:class:`ChannelPruner` and through its public methods only.

Widths are ``keep_ratios`` (mmrazor's ``ratios``): fractions KEPT, and
channels are kept from the front (slimmable networks share prefixes).
"""
from typing import Optional, Sequence

import torch
from mmrazor.models.builder import PRUNERS
from mmrazor.models.pruners.utils import SwitchableBatchNorm2d
from torch import nn

from .channel_pruner import ChannelPruner


@PRUNERS.register_module()
class AutoSlimPruner(ChannelPruner):
    """A :class:`ChannelPruner` with AutoSlim's widths.

    Args:
        keep_ratios: widths, as the fraction of each space's channels
            KEPT, that :meth:`sample_subnet` draws from.
        ratios: alias of ``keep_ratios`` under the name mmrazor's
            ``RatioPruner`` gives it, so an AutoSlim config works with
            only its ``type`` changed; passing both is an error.
        **kwargs: :class:`ChannelPruner`'s arguments (``seed`` seeds the
            draws of :meth:`sample_subnet`).
    """

    def __init__(self, keep_ratios: Optional[Sequence[float]] = None,
                 ratios: Optional[Sequence[float]] = None, **kwargs):
        super().__init__(**kwargs)
        if ratios is not None:
            if keep_ratios is not None:
                raise ValueError('give keep_ratios or its alias ratios, '
                                 'not both')
            keep_ratios = ratios
        self.keep_ratios = sorted(keep_ratios) \
            if keep_ratios is not None else None

    def _prefix(self, fraction_kept):
        subnet = {}
        for sp in self.prunable_spaces:
            k = min(sp.num_channels, max(
                self.min_channels, int(round(sp.num_channels *
                                             fraction_kept(sp)))))
            subnet[sp.name] = list(range(k))
        return subnet

    def _keep_ratio_list(self):
        if not self.keep_ratios:
            raise ValueError('this pruner has no `keep_ratios` (widths '
                             'kept, alias `ratios`) to sample from; set '
                             'them in its config')
        return self.keep_ratios

    def sample_subnet(self):
        """Each space keeps a prefix: a width drawn from ``keep_ratios``."""
        widths = self._keep_ratio_list()

        def draw(_sp):
            i = torch.randint(len(widths), (1, ), generator=self.generator)
            return widths[int(i)]
        return self._prefix(draw)

    def set_max_channel(self):
        self.set_subnet(self._prefix(lambda sp: 1.0))

    def set_min_channel(self):
        self.set_subnet(self._prefix(lambda sp: self._keep_ratio_list()[0]))

    def export_subnet(self):
        """``{layer: {in_channels, out_channels, raw_*}}`` of the current
        subnet, mmrazor's ``channel_cfg``."""
        return self.channel_cfg()

    def _subnet_from_cfg(self, channel_cfg):
        subnet = {}
        for sp in self.prunable_spaces:
            for name in sp.producers:
                if name in channel_cfg and 'out_channels' in \
                        channel_cfg[name]:
                    k = channel_cfg[name]['out_channels']
                    subnet[sp.name] = list(range(
                        max(1, k // max(1, sp.channels_per_unit))))
                    break
        return subnet

    def deploy_subnet(self, supernet, channel_cfg):
        """Prune ``supernet`` in place to the widths of ``channel_cfg``."""
        model = getattr(supernet, 'model', supernet)
        if not self.is_prepared or self.model is not model:
            self.prepare_from_supernet(supernet)
        self.export(self._subnet_from_cfg(channel_cfg), inplace=True)

    def switch_subnet(self, channel_cfg, subnet_ind=None):
        if subnet_ind is not None:
            for m in self.model.modules():
                if isinstance(m, SwitchableBatchNorm2d):
                    m.index = subnet_ind
        self.set_subnet(self._subnet_from_cfg(channel_cfg))

    def convert_switchable_bn(self, module, num_bns):
        """Replace every BatchNorm by mmrazor's ``SwitchableBatchNorm2d``."""
        out = module
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            out = SwitchableBatchNorm2d(module.num_features, num_bns)
        for name, child in module.named_children():
            out.add_module(name, self.convert_switchable_bn(child, num_bns))
        return out

    def get_max_channel_bins(self, max_channel_bins):
        return {sp.name: torch.ones(max_channel_bins)
                for sp in self.prunable_spaces}

    def set_channel_bins(self, channel_bins_dict, max_channel_bins):
        """Keep, per space, the channel bins whose flag is set. Bin ``b``
        of ``B`` holds channels ``[b * n // B, (b + 1) * n // B)``, so the
        bins cover all ``n`` channels also when ``B`` does not divide
        ``n`` (40 channels in 12 bins: bins of 3 or 4)."""
        subnet = {}
        for sp in self.prunable_spaces:
            bins = channel_bins_dict.get(sp.name)
            if bins is None:
                continue
            n, nb = sp.num_channels, max_channel_bins
            idx = [j for b, on in enumerate(bins.tolist()) if on
                   for j in range(b * n // nb, (b + 1) * n // nb)]
            subnet[sp.name] = idx or [0]
        self.set_subnet(subnet)
