"""The pruner's export check as a part (the check itself:
``export_check.py``): a trial export while preparing, and checked
exports. It computes which spaces cannot be exported pruned; the pruner
owns the spaces and the masks and acts on what it returns."""
from typing import Callable, Dict, Optional, Tuple

from torch import Tensor, nn

from .export_check import ExportVerifier, check_export_mode, trial_keep

Found = Dict[str, str]  # space -> why it is kept whole


class ExportChecker:
    """Checks exports of one prepared model.

    Attributes:
        kept_whole: ``{space: reason}`` found unexportable by checked
            exports so far (the trial's are made unprunable instead).
    """

    def __init__(self):
        self.kept_whole: Found = {}
        self._verifier: Optional[ExportVerifier] = None

    @property
    def seconds(self) -> float:
        """Seconds spent checking exported models so far (the trial while
        preparing included, the exports themselves not)."""
        return self._verifier.seconds if self._verifier is not None else 0.0

    def start(self, model: nn.Module, layers, x: Tensor,
              forward_fn: Callable, mode: str) -> None:
        """Check exports of ``model`` (masks attached) on input ``x``."""
        self.kept_whole = {}
        self._verifier = ExportVerifier(model, layers, x, forward_fn, mode)

    def trial(self, spaces, num_units: int, masks_set: Tensor,
              export_fn: Callable[[Tensor], nn.Module], mode: str
              ) -> Optional[Found]:
        """The spaces an export of a trial subnet (every other unit of
        each space) cannot have pruned, after which the masks may hold
        the trial; None when the trial ran with stand-in weights only
        (``ExportVerifier.runs_with_stand_ins``: the masks untouched,
        nothing found)."""
        if mode == 'off' or not spaces:
            return None
        keep = trial_keep(spaces, num_units)
        if self._verifier.runs_with_stand_ins(keep):
            return None
        _, found, _ = self._verifier.verify(spaces, keep, export_fn,
                                            masks_set=masks_set)
        return found

    def export(self, spaces, keep: Tensor,
               export_fn: Callable[[Tensor], nn.Module], masks_set: Tensor,
               mode: str) -> Tuple[nn.Module, Found, Optional[Tensor]]:
        """``(exported model, spaces found unexportable, the keep vector
        the masks hold now or None)``: ``keep`` exported and checked,
        again with the spaces found kept whole until it passes."""
        self._verifier.mode = check_export_mode(mode)
        small, found, _ = self._verifier.verify(spaces, keep, export_fn,
                                                masks_set=masks_set)
        self.kept_whole.update(found)
        return small, found, self._verifier.masks_set

    def drop_kept_whole(self, subnet):
        """``subnet`` without the spaces found unexportable (they keep
        all their channels)."""
        if not self.kept_whole or not isinstance(subnet, dict):
            return subnet
        return {n: v for n, v in subnet.items() if n not in self.kept_whole}
