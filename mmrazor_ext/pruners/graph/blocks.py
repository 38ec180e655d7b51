"""The residual blocks a model can lose, read from its traced graph: each
one's shortcut, its output activation, shapes and FLOPs, in forward order.

A removable block is a module, called once, whose output is ``x +
branch(x)`` or ``act(x' + branch(x))``, where ``x`` is the module's input
and ``x'`` is ``x`` itself (identity) or the output of a module inside it
reading ``x`` (its shortcut, e.g. a downsample branch), and ``act`` a
module inside it called on the sum; the branch is computed from ``x``, not
through ``x'``. The graph says all
of it (the sum is an op passing its gradient to both inputs unchanged); no
attribute name is read. Where two modules have the same input and output
(a stage holding one block), the innermost is the block.
"""
from dataclasses import dataclass
from typing import List, Optional, Tuple

from ...utils import UserInputError
from .model_graph import ModelGraph, ModuleCall


@dataclass
class BlockInfo:
    """One residual block of the traced model."""
    name: str
    kind: str  # 'resnet' (act(branch + shortcut)) or 'inverted' (x + branch)
    shortcut: Optional[str]  # shortcut module name; None: identity
    in_shape: Tuple[int, ...]
    out_shape: Tuple[int, ...]
    flops: int  # FLOPs per sample of the block
    shortcut_flops: int  # what its replacement still costs
    act: Optional[str] = None  # module applied to the sum ('resnet')

    @property
    def transition(self) -> bool:
        """Changes the shape (its shortcut is a module)."""
        return self.shortcut is not None


def _residual(graph: ModelGraph, call: ModuleCall):
    """``(shortcut call or None, act call or None)`` of a block call, or
    None when the call is not a residual block."""
    inner = graph.inside(call.name)
    act, total = None, call.out_id
    if total not in graph.sums:
        act = next((c for c in inner if c.out_id == call.out_id and
                    c.in_id in graph.sums), None)
        if act is None:
            return None
        total = act.in_id
    for short, branch in (graph.sums[total], graph.sums[total][::-1]):
        if branch == call.in_id:
            continue
        if short == call.in_id:
            found = None
        else:
            found = next((c for c in inner if c.in_id == call.in_id and
                          c.out_id == short), None)
            if found is None:
                continue
        # the branch comes from the block's input, not through the
        # shortcut (a stage of blocks is not a block)
        if graph.depends(branch, call.in_id, avoid=(short, ) if found
                         is not None else ()):
            return found, act
    return None


def find_blocks(graph: ModelGraph, model_name: str = 'the model'
                ) -> List[BlockInfo]:
    """The removable residual blocks of a traced model, in forward order.

    Raises:
        UserInputError: the model has no removable residual block.
    """
    counts = {}
    for c in graph.calls:
        counts[c.name] = counts.get(c.name, 0) + 1
    found = {}  # (in, out) -> block, the innermost module kept
    for call in graph.calls:
        if not call.name or counts[call.name] != 1:
            continue
        parts = _residual(graph, call)
        if parts is None:
            continue
        short, act = parts
        if short is None and call.in_shape != call.out_shape:
            continue  # no identity to fall back to
        key = (call.in_id, call.out_id)
        if key in found:
            continue  # calls return inner first: the innermost is there
        found[key] = BlockInfo(
            call.name, 'resnet' if act is not None else 'inverted',
            short.name if short is not None else None,
            call.in_shape[1:], call.out_shape[1:], graph.flops(call.name),
            graph.flops(short.name) if short is not None else 0,
            act.name if act is not None else None)
    if not found:
        raise UserInputError(
            f'{model_name} has no removable residual block: Fusion needs '
            'blocks computing x + branch(x) or act(shortcut(x) + branch(x)) '
            'in one module, the activation a module of its own')
    return list(found.values())
