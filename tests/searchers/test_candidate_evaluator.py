"""Candidates are evaluated exported (a physically pruned copy) on a
seeded held-out split of the training set, as the masked model scores
them; the searched model is left as it was."""
import numpy as np
import pytest
import torch
from search_setup import DATA, model_and_pruner

from mmrazor_ext.engine import bn_snapshot, preserved_bn_stats, \
    recalibrate_bn
from mmrazor_ext.searchers import CandidateEvaluator, SearchSplit
from mmrazor_ext.utils import UserInputError


@pytest.fixture(scope='module')
def split():
    return SearchSplit(DATA, num_images=64, seed=0)


def test_split_is_carved_from_the_training_set(split):
    n = len(split.train)
    assert len(split.held) == n  # data.train, read with the val pipeline
    assert sorted(split.search_idx.tolist() + split.rest_idx.tolist()) == \
        list(range(n))
    assert np.array_equal(split.held.get_gt_labels(),
                          split.train.get_gt_labels())
    again = SearchSplit(DATA, num_images=64, seed=0)
    assert np.array_equal(again.search_idx, split.search_idx)
    other = SearchSplit(DATA, num_images=64, seed=1)
    assert not np.array_equal(other.search_idx, split.search_idx)
    info = split.describe()
    assert info['source'] == 'data.train' and info['search_images'] == 64
    imgs, labels = split.search_data()
    assert imgs.shape[0] == 64 and labels.tolist() == np.asarray(
        split.train.get_gt_labels())[split.search_idx].tolist()
    batches = split.train_batches(2, 16)
    assert [b['img'].shape[0] for b in batches] == [16, 16]
    assert torch.equal(batches[0]['img'], split.train_batches(2, 16)[0][
        'img'])  # seeded, augmentations included


@pytest.mark.parametrize('num', [0, 10_000])
def test_split_size_checked(num):
    with pytest.raises(UserInputError, match='num_images'):
        SearchSplit(DATA, num_images=num)


def test_evaluation_leaves_the_model_as_it_was(checkpoint, split):
    model, pruner = model_and_pruner(checkpoint)
    imgs, labels = split.search_data()
    ev = CandidateEvaluator(pruner, imgs, labels, split.train_batches(1, 32),
                            batch_size=32)
    params = {n: p for n, p in model.named_parameters()}
    weights = {n: p.detach().clone() for n, p in params.items()}
    bn = bn_snapshot(model)
    model.train()
    sub = pruner.sample_subnet_uniform(0.5)
    first = ev(sub)
    assert ev(sub) == first  # deterministic
    assert 0 <= first <= 100
    assert pruner.get_subnet() == pruner.subnet_from_keep(
        torch.ones(pruner.num_units, dtype=torch.bool))  # masks restored
    assert model.training
    for name, value in bn_snapshot(model).items():
        assert torch.equal(value, bn[name]), name
    for name, p in model.named_parameters():  # same tensors, unchanged
        assert p is params[name] and torch.equal(p, weights[name])
    # the masks matter: a narrower subnet scores differently somewhere
    scores = [ev(pruner.sample_subnet_uniform(r)) for r in (0.0, 0.9)]
    assert scores[0] != scores[1] or scores[0] != first
    # the exported copy scores as the masked model does
    with preserved_bn_stats(model):
        pruner.set_subnet(sub)
        recalibrate_bn(model, ev.recal, len(ev.recal), sync=False)
        assert ev.top1() == first
        pruner.set_subnet({})
