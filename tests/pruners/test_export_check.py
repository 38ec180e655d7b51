"""Export verifies itself: a model that reshapes with a channel count it
stores exports pruned and fails to run (on the code before the check);
the trial export while preparing keeps that space whole with a warning
naming it, ``export_check='strict'`` gives one line instead, and the check
in ``export()`` catches what the trial did not."""
import warnings

import pytest
import torch
from mmrazor.models.builder import build_pruner
from torch import nn

from mmrazor_ext.pruners.export import export_pruned_model
from mmrazor_ext.pruners.export_check import ExportCheckError, ExportVerifier
from mmrazor_ext.utils.tensor_compare import relative_error

SHAPE = (3, 8, 8)


class StoredWidth(nn.Module):
    """VAN's pattern: channels moved last, then reshaped back with a width
    the module stores (``self.width``) instead of reading it from x."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 1)
        self.width = 16
        self.conv3 = nn.Conv2d(16, 8, 3, padding=1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.conv2(torch.relu(self.conv1(x)))
        h, w = x.shape[2:]
        x = x.flatten(2).transpose(1, 2)
        x = x.reshape(-1, h, w, self.width).permute(0, 3, 1, 2)
        return self.fc(self.conv3(x).mean((2, 3)))


def _pruner(model, **kw):
    kw.setdefault('divisor', 1)  # exact counts on 8-channel layers
    p = build_pruner(dict(type='ChannelPruner', input_shape=SHAPE, **kw))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        p.prepare_from_supernet(model)
    return p, [str(w.message) for w in caught]


def _x():
    return torch.randn(2, *SHAPE, generator=torch.Generator().manual_seed(1))


def test_stored_width_kept_whole_with_a_warning():
    torch.manual_seed(0)
    model = StoredWidth().eval()
    p, caught = _pruner(model)
    space = {sp.name: sp for sp in p.channel_spaces}['conv2']
    assert not space.prunable
    assert 'exported model fails in conv3 (Conv2d)' in space.reason
    assert any(m.startswith("channel space 'conv2' kept whole: the exported "
                            'model fails in conv3') for m in caught), caught
    assert p.space_names() == ['conv1', 'conv3']  # the others still prune
    p.set_subnet(p.sample_subnet_uniform(0.5))
    small = p.export()
    assert (small.conv1.out_channels, small.conv2.out_channels,
            small.conv3.out_channels) == (4, 16, 4)
    with torch.no_grad():
        assert relative_error(small(_x()), model(_x())) <= 1e-4
    assert p.kept_whole_on_export == {}  # nothing left for export to find


def test_strict_gives_one_line():
    with pytest.raises(ExportCheckError) as e:
        _pruner(StoredWidth(), export_check='strict')
    msg = str(e.value)
    assert '\n' not in msg
    assert msg.startswith("export_check='strict': channel space 'conv2' "
                          'cannot be pruned: the exported model fails in '
                          'conv3 (Conv2d): RuntimeError: ')


def test_export_checks_what_the_trial_did_not():
    """Without the trial, export() finds the space, keeps it whole from
    then on and re-exports; the masks follow, so masked == exported."""
    torch.manual_seed(0)
    model = StoredWidth().eval()
    p, _ = _pruner(model, export_check='off')
    assert 'conv2' in p.space_names()
    sub = p.sample_subnet_uniform(0.5)
    p.set_subnet(sub)
    p.export_check = 'strict'
    with pytest.raises(ExportCheckError, match="channel space 'conv2'"):
        p.export()
    p.export_check = 'keep_whole'
    with pytest.warns(UserWarning, match="channel space 'conv2' kept whole"):
        small = p.export()
    assert list(p.kept_whole_on_export) == ['conv2']
    assert 'conv2' not in p.space_names() and 'conv2' not in p.get_subnet()
    assert small.conv2.out_channels == 16 and small.conv1.out_channels == 4
    with torch.no_grad():
        assert relative_error(small(_x()), model(_x())) <= 1e-4
    # the earlier subnet still applies, its conv2 entry ignored
    assert p.flops_params(sub) == p.flops_params()


class TwoConvs(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.conv3 = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        return self.conv3(torch.relu(self.conv2(torch.relu(self.conv1(x)))))


def test_a_mismatch_names_the_layer_and_its_spaces():
    """An exported layer computing something else (here: a perturbed
    weight) is found by comparing layer outputs in forward order."""
    torch.manual_seed(0)
    model = TwoConvs().eval()
    p, _ = _pruner(model)
    keep = p.keep_vector(p.sample_subnet_uniform(0.5))

    def bad_export(k):
        small = export_pruned_model(model, p.layers, k)
        with torch.no_grad():
            small.conv2.weight.mul_(1.5)
        return small

    check = ExportVerifier(model, p.layers, _x(), lambda m, x: m(x),
                           mode='strict')
    with pytest.raises(ExportCheckError) as e:
        check.verify(p.prunable_spaces, keep, bad_export)
    assert "channel spaces 'conv1', 'conv2' cannot be pruned" in str(e.value)
    assert 'first at conv2 (Conv2d)' in str(e.value)
    check.mode = 'keep_whole'  # every space whole and still wrong: a bug
    with pytest.raises(RuntimeError, match='unpruned subnet'):
        check.verify(p.prunable_spaces, keep, bad_export)
