"""The candidates a latency table is calibrated and checked on, and a
candidate as a model of its own (widths exported, blocks removed)."""
import random
from typing import Dict, List, Sequence

from torch import nn

from ..fusion import remove_blocks


def candidate_model(pruner, blocks, subnet, removed) -> nn.Module:
    """The physically pruned candidate: exported widths, blocks removed."""
    model = pruner.export(subnet)
    if removed:
        remove_blocks(model, blocks, removed)
    return model.cpu().eval()


def first_channels(space, kept: Sequence[int]) -> Dict[str, List[int]]:
    """A subnet of the widths ``kept`` (which channels does not matter for
    latency)."""
    return {n: list(range(k)) for n, k in zip(space.names, kept)}


def calibration_candidates(space) -> List[tuple]:
    """``(name, kept, removed)`` of the calibration models: the unpruned
    model first, uniform widths at three levels, each also without every
    removable block."""
    n = space.widths.num_choices
    levels = sorted({n - 1, (2 * n) // 3, n // 3, 0}, reverse=True)
    removals = [[]] + ([list(space.block_names)] if space.blocks else [])
    out, seen = [('unpruned', list(space.sizes), [])], set()
    seen.add((tuple(space.sizes), ()))
    for level in levels:
        for removed in removals:
            kept = space.kept(space.uniform_genome(level, removed))
            if (tuple(kept), tuple(removed)) not in seen:
                seen.add((tuple(kept), tuple(removed)))
                out.append((f'uniform{space.choices[level]:g}' +
                            ('-blocks' if removed else ''), kept, removed))
    return out


def random_candidates(space, num: int, seed: int) -> List[tuple]:
    """``(kept, removed)`` of ``num`` random genomes (each width gene
    uniform over the keep ratios, each block removed with probability
    one half), seeded."""
    rng = random.Random(seed)
    out = []
    for _ in range(num):
        genome = [rng.randrange(c) for c in space.num_choices]
        out.append((space.kept(genome), space.removed(genome)))
    return out
