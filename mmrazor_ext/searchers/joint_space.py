"""The joint search space: a keep ratio per channel space and, optionally,
keep / remove for each residual block Fusion may remove (the same blocks,
read from the same graph: ``fusion.candidates(find_blocks(graph))``).

A genome is one integer vector: the width genes first (an index into the
keep ratios, as :class:`KeepRatioSpace`), then one gene per removable
block (1: removed). Two genomes are the same candidate when they give the
same model: the same kept channels in every space that is still run, and
the same blocks removed (a space that lives only inside removed blocks
does not count).
"""
from typing import Dict, List, Optional, Sequence, Tuple

from .search_space import KeepRatioSpace

Key = Tuple[int, ...]


def _inside(name: str, block: str) -> bool:
    return name == block or name.startswith(block + '.')


class JointSpace:
    """Genomes of widths and removed blocks, and what they stand for.

    Args:
        pruner: A prepared ``ChannelPruner``.
        choices (sequence[float]): Keep ratios each space chooses from.
        blocks (sequence[BlockInfo]): Removable blocks (empty: a search of
            widths only, genomes and keys exactly as :class:`KeepRatioSpace`
            has them).
    """

    def __init__(self, pruner, choices: Sequence[float], blocks=()):
        self.widths = KeepRatioSpace(pruner, choices)
        self.pruner = pruner
        self.blocks = list(blocks)
        self.block_names = [b.name for b in self.blocks]
        # per space, the block holding all its layers (None: outside any)
        self.home: List[Optional[int]] = []
        for sp in pruner.prunable_spaces:
            members = sp.producers + sp.consumers + sp.norms + \
                sp.passthrough
            home = next((j for j, b in enumerate(self.block_names)
                         if members and all(_inside(m, b) for m in members)),
                        None)
            self.home.append(home)

    # ------------------------------------------------------- shape
    @property
    def names(self) -> List[str]:
        return self.widths.names

    @property
    def sizes(self) -> List[int]:
        return self.widths.sizes

    @property
    def table(self):
        return self.widths.table

    @property
    def choices(self) -> List[float]:
        return self.widths.choices

    @property
    def dim(self) -> int:
        return self.widths.dim + len(self.blocks)

    @property
    def num_choices(self) -> List[int]:
        """Choices per gene (keep ratios, then 2 per block)."""
        return [self.widths.num_choices] * self.widths.dim + \
            [2] * len(self.blocks)

    # ------------------------------------------------------- genomes
    def split(self, genome) -> Tuple[List[int], List[int]]:
        """``(width genes, block genes)``."""
        genes = [int(g) for g in genome]
        return genes[:self.widths.dim], genes[self.widths.dim:]

    def removed(self, genome) -> List[str]:
        """Names of the blocks ``genome`` removes, in forward order."""
        return [n for n, g in zip(self.block_names, self.split(genome)[1])
                if g]

    def counts(self, genome) -> Key:
        """The candidate's identity: kept channels per space (0 for a
        space inside a removed block), then the block genes."""
        widths, bits = self.split(genome)
        kept = self.widths.counts(widths)
        if not self.blocks:
            return kept
        return tuple(0 if h is not None and bits[h] else k
                     for k, h in zip(kept, self.home)) + tuple(bits)

    def kept(self, genome) -> List[int]:
        """Kept channels per space (every space, as the genome says)."""
        return list(self.widths.counts(self.split(genome)[0]))

    def keep_ratios(self, genome) -> Dict[str, float]:
        return self.widths.keep_ratios(self.split(genome)[0])

    def encode(self, width_genes: Sequence[int],
               removed: Sequence[str] = ()) -> List[int]:
        """The genome of keep-ratio indices ``width_genes`` and the blocks
        ``removed`` (names)."""
        unknown = set(removed) - set(self.block_names)
        if unknown:
            raise ValueError(f'not removable blocks: {sorted(unknown)}')
        if len(width_genes) != self.widths.dim:
            raise ValueError(f'{len(width_genes)} width genes for '
                             f'{self.widths.dim} channel spaces')
        return [int(g) for g in width_genes] + \
            [int(n in removed) for n in self.block_names]

    def decode(self, genome) -> dict:
        """What a genome stands for: ``kept`` and ``keep_ratios`` per
        space, ``blocks_removed``."""
        return dict(kept=self.kept(genome),
                    keep_ratios=self.keep_ratios(genome),
                    blocks_removed=self.removed(genome))

    def subnet(self, kept: Sequence[int], scores) -> Dict[str, List[int]]:
        """The best-scored ``kept[i]`` channels of each space."""
        return self.widths.subnet(kept, scores)

    def uniform_genome(self, index: int, removed: Sequence[str] = ()):
        return self.encode([index] * self.widths.dim, removed)

    def describe(self) -> dict:
        out = self.widths.describe()
        if self.blocks:
            out['blocks'] = list(self.block_names)
        return out
