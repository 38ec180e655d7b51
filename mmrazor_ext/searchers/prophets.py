"""The first population's prior knowledge (geatpy's ``prophetPop``): the
widest uniform candidate within the budgets (all blocks kept, and with a
joint genome also all removable blocks removed) and the global-ranking
(``diff``) widths at the budget."""
from typing import List


def _fits(pool, genome) -> bool:
    rec = pool.record(pool.space.kept(genome), pool.space.removed(genome))
    return max(pool.violation(rec)) <= 0


def _widest_uniform(pool, removed) -> List[int]:
    space = pool.space
    for index in reversed(range(space.widths.num_choices)):
        genome = space.uniform_genome(index, removed)
        if _fits(pool, genome):
            return genome
    return None


def _within(space, subnet, removed) -> List[int]:
    """Each space's largest choice not above its width in ``subnet``."""
    genes = []
    for i, name in enumerate(space.names):
        fits = [j for j in range(space.table.shape[1])
                if space.table[i, j] <= len(subnet[name])]
        genes.append(max(fits) if fits else 0)
    return space.encode(genes, removed)


def prophets(pool, flops_kept=None) -> List[List[int]]:
    """Genomes to start from (see the module doc). ``flops_kept``: a FLOPs
    budget alone (the width search of old): the ``diff`` widths of that
    FLOPs fraction; otherwise the ``diff`` widths of the least channel
    ratio removed whose candidate fits every budget."""
    space, out = pool.space, []
    removals = [[]] + ([list(space.block_names)] if space.blocks else [])
    for removed in removals:
        genome = _widest_uniform(pool, removed)
        if genome is not None and genome not in out:
            out.append(genome)
    pruner, genome = space.pruner, None
    if flops_kept is not None and not space.blocks:
        genome = _within(space, pruner.sample_subnet_flops(
            min(1 - flops_kept, 0.999), pool.scores, mode='diff'), [])
    else:
        for removed in removals:
            for step in range(1, 20):
                g = _within(space, pruner.sample_subnet_diff(
                    step * 0.05, pool.scores), removed)
                if _fits(pool, g):
                    genome = g
                    break
            if genome is not None:
                break
    if genome is not None and genome not in out:
        out.append(genome)
    return out
