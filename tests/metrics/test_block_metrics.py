import pytest
import torch

import mmrazor_ext  # noqa: F401
from mmrazor_ext.metrics import build_metric


def _x():
    return torch.randn(40, 8, 4, 4, generator=torch.Generator().manual_seed(0))


def test_cka_identity_and_linear_map_score_zero():
    x = _x()
    cka = build_metric('CKAMetric')
    assert cka({'b': (x, x)})['b'].item() == pytest.approx(0, abs=1e-6)
    # CKA is invariant to orthogonal maps and isotropic scaling
    q, _ = torch.linalg.qr(torch.randn(8, 8))
    y = 3 * torch.einsum('dc,nchw->ndhw', q, x)
    assert cka({'b': (x, y)})['b'].item() == pytest.approx(0, abs=1e-5)


def test_cka_unrelated_output_scores_high_and_handles_resolution():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(500, 8, 4, 4, generator=gen)
    y = torch.randn(500, 16, 2, 2, generator=gen)
    for grid in (1, 2):
        score = build_metric(dict(type='CKAMetric', grid=grid))(
            {'b': (x, y)})['b']
        assert score.item() > 0.8


def test_feature_change_value_and_shape_error():
    x = _x()
    change = build_metric('FeatureChangeMetric')
    torch.testing.assert_close(change({'b': (x, 1.5 * x)})['b'],
                               torch.tensor([0.5]))
    with pytest.raises(ValueError, match='same shape'):
        change({'b': (x, x[:, :4])})
    with pytest.raises(TypeError, match=r'\(input, output\)'):
        change({'b': x})
