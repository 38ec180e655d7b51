"""JointSpace: widths and Fusion's removable blocks in one genome; encode /
decode round trip, one identity per model, FLOPs of a candidate without
its blocks as the exported model counts them."""
import numpy as np
import pytest
from search_setup import model_and_pruner

from mmrazor_ext.fusion import candidates, find_blocks, remove_blocks
from mmrazor_ext.searchers.evolution import build_evolution
from mmrazor_ext.searchers.joint_space import JointSpace


@pytest.fixture(scope='module')
def space(checkpoint):
    pruner = model_and_pruner(checkpoint)[1]
    blocks = candidates(find_blocks(pruner.graph), False)  # Fusion's
    return JointSpace(pruner, [0.25, 0.5, 1.0], blocks)


def test_genome_round_trip_and_identity(space):
    widths = space.widths.dim
    assert space.dim == widths + len(space.blocks) and space.blocks
    assert space.num_choices == [3] * widths + [2] * len(space.blocks)
    rng = np.random.RandomState(0)
    for _ in range(20):
        genes = rng.randint(0, 3, widths).tolist()
        removed = [b for b in space.block_names if rng.rand() < 0.5]
        genome = space.encode(genes, removed)
        assert space.split(genome)[0] == genes
        decoded = space.decode(genome)
        assert decoded['blocks_removed'] == removed
        assert space.encode([space.choices.index(
            decoded['keep_ratios'][n]) for n in space.names],
            decoded['blocks_removed']) == genome
        assert decoded['kept'] == list(space.widths.counts(genes))
    # a space living inside a removed block does not tell candidates apart
    inner = next(i for i, h in enumerate(space.home) if h is not None)
    block = space.block_names[space.home[inner]]
    a = [2] * widths
    b = list(a)
    b[inner] = 0
    assert space.counts(space.encode(a, [block])) == \
        space.counts(space.encode(b, [block]))
    assert space.counts(space.encode(a)) != space.counts(space.encode(b))
    with pytest.raises(ValueError, match='not removable'):
        space.encode(a, ['backbone.layer2.0'])  # a stage transition


def test_evolution_keeps_each_gene_in_its_range(space):
    evo = build_evolution('NSGA2', space.dim, space.num_choices, 8, 0,
                          identity=space.counts)
    chrom = evo.initial()
    for _ in range(3):
        assert (chrom >= 0).all() and (
            chrom <= np.array(space.num_choices) - 1).all()
        objv = np.random.RandomState(1).rand(len(chrom), 2)
        evo.start(chrom, objv, np.zeros((len(chrom), 1)))
        chrom = evo.offspring()


def test_flops_without_blocks_count_the_exported_model(space):
    pruner = space.pruner
    genome = space.encode([1] * space.widths.dim, space.block_names[::2])
    sub = space.subnet(space.kept(genome), None)
    removed = space.removed(genome)
    model = pruner.export(sub)
    remove_blocks(model, space.blocks, removed)
    assert pruner.flops_params(sub, without=removed) == pruner.count(model)
    assert pruner.flops_params(sub, without=removed)[0] < \
        pruner.flops_params(sub)[0]
