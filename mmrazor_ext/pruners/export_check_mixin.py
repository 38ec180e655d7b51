"""The pruner's side of the export check (``export_check.py``): a trial
export while preparing, and a checked :meth:`export`."""
import warnings
from typing import Dict

import torch
from torch import Tensor, nn

from ..adapters import trace_forward
from .export import export_pruned_model
from .export_check import ExportVerifier, check_export_mode, trial_keep
from .masks import set_masks


class ExportCheckMixin:
    """Needs ``model``, ``layers``, ``channel_spaces``, ``prunable_spaces``,
    ``keep``, ``num_units``, ``_renumber``, ``trace_warnings``,
    ``forward_fn`` and ``export_check``."""

    def _start_export_check(self, x: Tensor) -> None:
        """Export a trial subnet (every other unit of each space) once and
        make the spaces it cannot export unprunable, before any sampling."""
        self.kept_whole_on_export: Dict[str, str] = {}
        self._verifier = ExportVerifier(
            self.model, self.layers, x, self.forward_fn or trace_forward,
            self.export_check)
        spaces = self.prunable_spaces
        if self.export_check == 'off' or not spaces:
            return
        keep = trial_keep(spaces, self.num_units)
        if self._verifier.runs_with_stand_ins(keep):
            return
        _, found, _ = self._verifier.verify(
            spaces, keep, self._export_keep, masks_set=self.keep)
        if found:
            self._keep_whole(found)
            self._renumber(self.channel_spaces, self.layers)
            self.keep = torch.ones(self.num_units, dtype=torch.bool)
        set_masks(self.model, self.layers, self.keep)

    @property
    def export_check_seconds(self) -> float:
        """Seconds spent checking exported models so far (the trial while
        preparing included, the exports themselves not)."""
        verifier = getattr(self, '_verifier', None)
        return verifier.seconds if verifier is not None else 0.0

    def _export_keep(self, keep: Tensor) -> nn.Module:
        return export_pruned_model(self.model, self.layers, keep)

    def _checked_export(self, keep: Tensor) -> nn.Module:
        """Export ``keep``; spaces the exported model cannot have pruned
        become unprunable from now on (their units stay in the keep
        vector, kept), and the subnet set keeps them whole too."""
        spaces = self.prunable_spaces
        self._verifier.mode = check_export_mode(self.export_check)
        small, found, _ = self._verifier.verify(
            spaces, keep, self._export_keep, masks_set=self.keep)
        if found:
            for sp in spaces:
                if sp.name in found:
                    self.keep[sp.offset:sp.offset + sp.num_channels] = True
            self._keep_whole(found)
            self.kept_whole_on_export.update(found)
        held = self._verifier.masks_set
        if held is None or not torch.equal(held, self.keep):
            set_masks(self.model, self.layers, self.keep)
        return small

    def _keep_whole(self, found: Dict[str, str]) -> None:
        for sp in self.channel_spaces:
            if sp.name in found:
                sp.prunable, sp.reason = False, found[sp.name]
                msg = (f'channel space {sp.name!r} kept whole: '
                       f'{found[sp.name]}')
                self.trace_warnings.append(msg)
                warnings.warn(msg)

    def _drop_kept_whole(self, subnet):
        """``subnet`` without the spaces found unexportable by
        :meth:`export` (they keep all their channels)."""
        whole = getattr(self, 'kept_whole_on_export', None)
        if not whole or not isinstance(subnet, dict):
            return subnet
        return {n: v for n, v in subnet.items() if n not in whole}
