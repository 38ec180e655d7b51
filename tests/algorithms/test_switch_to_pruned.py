"""Training moves to the physically pruned model: optimizer state sliced,
outputs unchanged, state dicts that rebuild the small model."""
import pytest
import torch
from one_shot_setup import MODEL
from mmcv.runner import load_state_dict
from mmrazor.models import build_algorithm

from mmrazor_ext.utils.tensor_compare import assert_close


def build(prune=True):
    algo = build_algorithm(dict(
        type='OneShot',
        architecture=dict(type='MMClsArchitecture', model=MODEL),
        pruner=dict(type='ChannelPruner', input_shape=(3, 16, 16),
                    divisor=1),  # exact counts, 16-channel stage too
        metric='L1Metric', mode='diff', ratio=0.4, evaluate=False))
    if prune:
        algo.prune_step(0)
    return algo


def batch(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(img=torch.randn(n, 3, 16, 16, generator=g),
                gt_label=torch.randint(0, 10, (n, ), generator=g))


def train(algo, opt, steps=2):
    for i in range(steps):
        out = algo.train_step(batch(seed=i), opt)
        opt.zero_grad()
        out['loss'].backward()
        opt.step()


def logits(algo, x):
    model = algo.architecture.model
    was = model.training
    model.eval()
    with torch.no_grad():
        out = model.extract_feat(x)
        out = model.head.fc(out[-1] if isinstance(out, tuple) else out)
    model.train(was)
    return out


@pytest.mark.parametrize('kind', ['sgd', 'adam'])
def test_optimizer_state_follows_the_kept_channels(kind):
    torch.manual_seed(0)
    algo = build()
    params = list(algo.parameters())
    opt = (torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-3)
           if kind == 'sgd' else torch.optim.Adam(params, lr=1e-3))
    train(algo, opt)
    name = 'backbone.layer1.0.conv1.weight'
    old = algo.architecture.model.get_parameter(name)
    kept = algo.pruner.parameter_slices()[name][0]
    assert len(kept) < old.shape[0]  # this layer loses output channels
    state_key = 'momentum_buffer' if kind == 'sgd' else 'exp_avg'
    old_state = opt.state[old][state_key].clone()
    x = torch.randn(4, 3, 16, 16)
    masked_out = logits(algo, x)
    n_before = sum(p.numel() for p in algo.parameters())

    algo.switch_to_pruned(opt)
    assert algo.is_exported and not algo.masks
    new = algo.architecture.model.get_parameter(name)
    assert new.shape[0] == len(kept)
    assert sum(p.numel() for p in algo.parameters()) < n_before
    # the optimizer holds exactly the new parameters
    in_opt = {id(p) for g in opt.param_groups for p in g['params']}
    assert in_opt == {id(p) for p in algo.parameters()}
    assert id(old) not in in_opt and old not in opt.state
    # the state of a kept channel is unchanged; pruned ones are gone
    state = opt.state[new][state_key]
    assert state.shape == new.shape
    kin = algo.pruner.parameter_slices()[name][1]
    expected = old_state[kept] if kin is None else old_state[kept][:, kin]
    assert torch.equal(state, expected)
    if kind == 'adam':
        assert opt.state[new]['step'] == 2
    assert_close(logits(algo, x), masked_out, rtol=1e-5)
    before = new.detach().clone()
    train(algo, opt, steps=1)  # training goes on, on the small model
    assert not torch.equal(before, new)


def test_state_dict_rebuilds_the_small_model():
    torch.manual_seed(0)
    algo = build()
    opt = torch.optim.SGD(algo.parameters(), lr=0.05, momentum=0.9)
    algo.switch_to_pruned(opt)
    train(algo, opt, steps=1)
    state = algo.state_dict()
    assert bool(state['pruned_exported'])
    assert not any(k.endswith(('in_mask', 'out_mask')) for k in state)
    fresh = build(prune=False)  # as tools/test.py and resume build it
    load_state_dict(fresh, state, strict=True)
    assert fresh.is_exported
    assert fresh.pruner.get_subnet() == algo.pruner.get_subnet()
    x = torch.randn(4, 3, 16, 16)
    assert_close(logits(fresh, x), logits(algo, x), rtol=1e-6)
    # a checkpoint written before the switch still loads (masked model)
    masked = build()
    early = build(prune=False)
    load_state_dict(early, masked.state_dict(), strict=True)
    assert not early.is_exported
    assert early.pruner.get_subnet() == masked.pruner.get_subnet()
    # and one of an older version without the flag
    old = masked.state_dict()
    del old['pruned_exported']
    load_state_dict(build(prune=False), old, strict=True)


def test_exported_model_and_no_second_subnet():
    torch.manual_seed(0)
    algo = build()
    algo.switch_to_pruned()
    exported = algo.export_model()
    x = torch.randn(2, 3, 16, 16)
    assert_close(exported.eval().head.fc(exported.neck(exported.backbone(
        x))[-1]), logits(algo, x), rtol=1e-6)
    with pytest.raises(RuntimeError, match='already physically pruned'):
        algo.apply_subnet({})
