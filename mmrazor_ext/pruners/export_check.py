"""Export verifies itself: the exported model runs once on the trace input
and is compared with the masked model (relative tolerance).

Masks never change shapes, so a model that stores a channel count (VAN
reshapes with ``block.out_channels``) runs masked and fails, or computes
something else, once exported. When that happens the spaces involved are
located (``space_tags.py``) and, by default (``export_check='keep_whole'``),
kept whole with a warning naming each and the reason, and the model is
exported again until it runs and matches; ``'strict'`` raises one line
instead; ``'off'`` skips the check.

While preparing, the pruner exports a trial subnet keeping every other
unit of each space, so such spaces are unprunable before any subnet is
sampled. The trial first runs with stand-in weights (no weight copied):
zeros (one value expanded to each parameter's shape), or meta tensors
(shapes only, nothing computed) for models over ``META_ABOVE`` weights,
whose big matrices would be materialised. Only when that fails is it
repeated with the real weights and compared with the masked model, which
tells a stored channel count from an op the stand-ins do not run.
"""
import copy
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from ..utils import UserInputError
from ..utils.tensor_compare import relative_error
from .export import prune_model_
from .graph.trace_input import traced_in_float32
from .handlers.layer_record import LayerRecord
from .masks import detach_masks, set_masks
from .space_tags import SpaceIndex, locate

EXPORT_CHECKS = ('keep_whole', 'strict', 'off')
# exported vs masked output: max |difference| / max |masked output|
EXPORT_RTOL = 1e-4
# parameter entries above which the trial runs on meta tensors: a forward
# with zero weights costs more than the meta kernels' overhead (VGG's and
# AlexNet's classifiers: 10x)
META_ABOVE = 50_000_000


class ExportCheckError(UserInputError):
    """``export_check='strict'``: a space cannot be exported pruned."""


def check_export_mode(mode: str) -> str:
    if mode not in EXPORT_CHECKS:
        raise UserInputError(f'ChannelPruner: export_check must be one of '
                             f'{EXPORT_CHECKS}, got {mode!r}')
    return mode


def trial_keep(spaces, num_units: int) -> Tensor:
    """Every other unit of each space (``0, 2, 4, ...``): a subnet that
    changes every width, with kept indices that are not a prefix."""
    keep = torch.ones(num_units, dtype=torch.bool)
    for sp in spaces:
        keep[sp.offset + 1:sp.offset + sp.num_channels:2] = False
    return keep


def _stand_in(t: Tensor, meta: bool) -> Tensor:
    dtype = torch.float32 if t.dtype in (torch.float16, torch.bfloat16) \
        else t.dtype
    if meta:
        return torch.empty(t.shape, dtype=dtype, device='meta')
    return torch.zeros((), dtype=dtype, device=t.device).expand(t.shape)


def stand_in_export(model: nn.Module, layers: Dict[str, LayerRecord],
                    keep: Tensor, meta: bool = False) -> nn.Module:
    """The exported model of ``keep`` with stand-ins for the parameters
    (zeros expanded to their shapes, or meta tensors; with ``meta`` the
    buffers too): an export's shapes without copying a weight."""
    tensors = list(model.parameters()) + (list(model.buffers()) if meta
                                          else [])
    memo = {}
    for t in tensors:
        e = _stand_in(t, meta)
        memo[id(t)] = nn.Parameter(e, requires_grad=t.requires_grad) \
            if isinstance(t, nn.Parameter) else e
    out = copy.deepcopy(model, memo)
    detach_masks(out)
    return prune_model_(out, layers, keep)


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return f'{type(e).__name__}: {lines[0] if lines else ""}'


class ExportVerifier:
    """Runs exported models against the masked model on one input.

    Args:
        model: the masked model (masks attached).
        layers: the pruner's layer records.
        x: the trace input.
        forward_fn: ``(model, x) -> outputs``.
        mode: one of :data:`EXPORT_CHECKS`.
        rtol: relative tolerance of the outputs.
    """

    def __init__(self, model: nn.Module, layers, x: Tensor,
                 forward_fn: Callable, mode: str = 'keep_whole',
                 rtol: float = EXPORT_RTOL):
        self.model, self.layers = model, layers
        self.x, self.forward_fn = x.detach(), forward_fn
        self.mode, self.rtol = check_export_mode(mode), rtol
        self.seconds = 0.0  # spent checking (exports not included)
        self.masks_set: Optional[Tensor] = None

    def run(self, module: nn.Module):
        """``forward_fn(module, x)`` in eval mode without grad (half
        models in float32, as traced)."""
        was = module.training
        module.eval()
        try:
            with torch.no_grad(), traced_in_float32(module):
                return self.forward_fn(module, self.x)
        finally:
            module.train(was)

    def runs_with_stand_ins(self, keep: Tensor) -> bool:
        """Whether the export of ``keep`` runs with stand-in weights
        (:func:`stand_in_export`)."""
        start = time.perf_counter()
        meta = sum(p.numel() for p in self.model.parameters()) > META_ABOVE
        try:
            small = stand_in_export(self.model, self.layers, keep, meta)
            x = self.x.to('meta') if meta else self.x
            with torch.no_grad(), traced_in_float32(small):
                self.forward_fn(small.eval(), x)
            return True
        except Exception:  # noqa: BLE001 (checked again with real tensors)
            return False
        finally:
            self.seconds += time.perf_counter() - start

    def verify(self, spaces: List, keep: Tensor,
               export_fn: Callable[[Tensor], nn.Module],
               masks_set: Optional[Tensor] = None
               ) -> Tuple[nn.Module, Dict[str, str], Tensor]:
        """Export ``keep``, run it, compare; keep the spaces behind a
        failure or mismatch whole and export again until it passes.

        Args:
            spaces: the prunable spaces (``name``, ``offset``,
                ``num_channels``).
            keep: one bool per prunable unit.
            export_fn: ``keep -> exported model``.
            masks_set: the keep vector the model's masks hold now (None:
                unknown). ``self.masks_set`` tells what they hold after:
                the returned keep when the check set them, else the same.

        Returns:
            ``(exported model, {space: reason} kept whole, keep used)``.

        Raises:
            ExportCheckError: in ``'strict'`` mode, at the first problem.
        """
        keep, found = keep.clone(), {}
        self.masks_set = None if masks_set is None else masks_set.clone()
        # an export that slices nothing is the model without masks
        skip = self.mode == 'off' or bool(keep.all())
        while True:
            small = export_fn(keep)
            if skip:
                return small, found, keep
            start = time.perf_counter()
            try:
                names = self._check(spaces, small, keep, self.masks_set)
            finally:
                self.seconds += time.perf_counter() - start
            self.masks_set = keep.clone()
            if names is None:
                return small, found, keep
            for n, reason in names.items():
                found[n] = reason
                sp = next(s for s in spaces if s.name == n)
                keep[sp.offset:sp.offset + sp.num_channels] = True

    def _check(self, spaces, small, keep, masks_set):
        """None if ``small`` runs and matches, else ``{space: reason}``
        to keep whole (masks left holding ``keep``)."""
        if masks_set is None or not torch.equal(masks_set, keep):
            set_masks(self.model, self.layers, keep)
        expected = self.run(self.model)
        error, err = None, 0.0
        try:
            err = relative_error(self.run(small), expected)
        except Exception as e:  # noqa: BLE001 (any failure is located)
            error = e
        if error is None and err <= self.rtol:
            return None
        names, reason = self._locate(spaces, small, keep, error, err)
        if not names:
            raise RuntimeError(f'the exported model of the unpruned '
                               f'subnet does not match: {reason}')
        return {n: reason for n in names}

    def _locate(self, spaces, small, keep, error, err):
        index = SpaceIndex(spaces, keep)
        loc = locate(self.model, small, self.layers, index, keep, self.run,
                     error is not None, self.rtol)
        if error is not None:
            reason = (f'the exported model fails in {loc.where}: '
                      f'{_first_line(error)}')
        else:
            reason = (f'the exported model differs from the masked one '
                      f'(relative error {err:.1e} > {self.rtol:g}), first '
                      f'at {loc.where}')
        pruned = [index.names[i] for i in sorted(index.pruned)]
        names = [n for n in loc.spaces if n in pruned]
        if self.mode == 'strict' and pruned:
            shown = names or pruned
            named = ', '.join(repr(n) for n in shown[:3]) + (
                f' and {len(shown) - 3} more' if len(shown) > 3 else '')
            raise ExportCheckError(
                f"export_check='strict': channel space"
                f"{'s' if len(shown) > 1 else ''} {named} cannot be "
                f'pruned: {reason} (the default '
                "export_check='keep_whole' exports it whole)")
        if not names and pruned:
            names = pruned
            reason += ' (not located: every pruned space kept whole)'
        return names, reason
