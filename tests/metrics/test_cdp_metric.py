import pytest
import torch

import mmrazor_ext  # noqa: F401
from mmrazor_ext.metrics import CDPMetric, build_metric


def _constructed_case():
    """5 classes x 10 images; channel 0 fires only for class 2, channel 1
    fires equally for every class, the others are weak noise."""
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(50) % 5
    feats = 0.1 * torch.rand(50, 6, 4, 4, generator=gen)
    feats[labels == 2, 0] += 5.
    feats[:, 1] = 3.
    return feats, labels


def test_class_specific_channel_tops_and_class_agnostic_is_lowest():
    feats, labels = _constructed_case()
    scores = build_metric('CDPMetric')({'l': feats}, labels=labels)['l']
    assert scores.argmax() == 0
    assert scores.argmin() == 1
    assert scores[1] < scores[2:].min()


def test_tfidf_matrix_and_formula():
    feats, labels = _constructed_case()
    metric = CDPMetric()
    collector = metric.collector()
    collector.update(feats, labels)
    matrix, scores = metric.tfidf(collector.reduced_stats())
    assert matrix.shape == (5, 6)
    # channel 0 occurs only in class 2: df = 1, idf = log(5 / 2)
    means = feats.flatten(2).mean(2)
    class_means = torch.stack([means[labels == k].mean(0) for k in range(5)])
    tf = class_means[2, 0] / class_means[2].sum()
    expected = tf * torch.log(torch.tensor(5 / 2.))
    torch.testing.assert_close(scores[0].float(), expected.float())
    assert (matrix[:, 0] != 0).tolist() == [False, False, True, False, False]


def test_num_classes_fixed_and_unseen_classes_ignored():
    feats, labels = _constructed_case()
    free = build_metric('CDPMetric')({'l': feats}, labels=labels)['l']
    fixed = build_metric(dict(type='CDPMetric', num_classes=8))(
        {'l': feats}, labels=labels)['l']
    torch.testing.assert_close(free, fixed)


@pytest.mark.parametrize('labels,match', [
    (None, 'needs class labels'),
    (torch.zeros(3, dtype=torch.long), '3 labels for 50 images'),
    (torch.zeros(50, dtype=torch.long), 'at least 2 classes'),
    (torch.full((50, ), 9), r'labels must lie in \[0, 5\)'),
])
def test_bad_labels(labels, match):
    feats, _ = _constructed_case()
    with pytest.raises(ValueError, match=match):
        build_metric(dict(type='CDPMetric', num_classes=5))(
            {'l': feats}, labels=labels)
