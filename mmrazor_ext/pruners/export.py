"""Physical removal of pruned channels: an ordinary, smaller ``nn.Module``.

Kept channels may be any indices; weights are sliced on both sides, norm
parameters and running statistics along with them. A grouped conv keeps its
``groups``: every group keeps the same input channels (``group_units``), so
its weight loses the same columns in every group.
"""
import copy
from typing import Dict, Tuple

import torch
from torch import Tensor, nn

from .graph.param_channels import prune_param_
from .handlers.attention import attention_parameter_slices, prune_attention_
from .handlers.group_norm import norm_param_dim, prune_norm_
from .handlers.group_units import local_keep
from .handlers.layer_record import LayerRecord
from .masks import detach_masks, pruned_sides
from .width_attrs import fix_width_attrs_


def _param(old, data):
    if old is None:
        return None
    return nn.Parameter(data.contiguous(), requires_grad=old.requires_grad)


def _take(t, k, dim=0):
    """Rows (``dim``) of ``t`` where bool ``k`` is set, as a new tensor."""
    return t.index_select(dim, k.nonzero().flatten().to(t.device))


def prune_model_(model: nn.Module, layers: Dict[str, LayerRecord],
                 keep: Tensor) -> nn.Module:
    """Slice the layers of ``model`` in place to the channels in ``keep``."""
    with torch.no_grad():
        for rec in layers.values():
            ko, ki = pruned_sides(rec, keep)
            if ko is None and ki is None:
                continue
            m = model if rec.kind == 'param' else model.get_submodule(
                rec.name)
            if rec.kind == 'conv':
                _prune_conv(m, rec, ko, ki)
            elif rec.kind == 'linear':
                w = m.weight
                if ko is not None:
                    w = _take(w, ko)
                    m.bias = _param(m.bias, _take(m.bias, ko)) \
                        if m.bias is not None else None
                    m.out_features = int(ko.sum())
                if ki is not None:
                    w = _take(w, ki, 1)
                    m.in_features = int(ki.sum())
                m.weight = _param(m.weight, w)
            elif rec.kind == 'group_norm':
                if ko is not None:
                    prune_norm_(m, rec, ko)
            elif rec.kind == 'param':
                if ko is not None:
                    prune_param_(model, rec, ko)
            elif rec.kind == 'attention':
                if ko is not None:
                    prune_attention_(m, ko)
            else:
                _prune_norm(m, ko)
    fix_width_attrs_(model)
    return model


def _prune_conv(m, rec, ko, ki):
    w = m.weight
    if rec.tied:
        k = ko if ko is not None else ki
        per_group_out = rec.out_channels // rec.groups
        w = _take(w, k)
        n = int(k.sum())
        m.groups = n // per_group_out
        m.in_channels = m.out_channels = n
        if m.bias is not None:
            m.bias = _param(m.bias, _take(m.bias, k))
    else:
        if ko is not None:
            w = _take(w, ko)
            if m.bias is not None:
                m.bias = _param(m.bias, _take(m.bias, ko))
            m.out_channels = int(ko.sum())
        if ki is not None:
            w = _take(w, local_keep(ki, m.groups), 1)
            m.in_channels = int(ki.sum())
    m.weight = _param(m.weight, w)


def _prune_norm(m, k):
    if k is None:
        return
    for name in ('weight', 'bias'):
        p = getattr(m, name, None)
        if p is not None:
            setattr(m, name, _param(p, _take(p, k)))
    for name in ('running_mean', 'running_var'):
        b = getattr(m, name, None)
        if b is not None:
            setattr(m, name, _take(b, k))
    if hasattr(m, 'num_features'):
        m.num_features = int(k.sum())


def export_pruned_model(model: nn.Module, layers: Dict[str, LayerRecord],
                        keep: Tensor) -> nn.Module:
    """A pruned copy of ``model`` without masks; ``model`` is unchanged.

    Parameters that lose entries are not copied before they are sliced
    (the copy starts out sharing them; slicing makes new ones), and any
    parameter still shared afterwards gets its own copy."""
    named = dict(model.named_parameters())
    memo = {id(named[n]): named[n] for n in parameter_slices(layers, keep)
            if n in named}
    out = copy.deepcopy(model, memo)
    detach_masks(out)
    prune_model_(out, layers, keep)
    originals = {id(p) for p in model.parameters()}
    for m in out.modules():
        for name, p in list(m.named_parameters(recurse=False,
                                               remove_duplicate=False)):
            if id(p) in originals:
                setattr(m, name, nn.Parameter(
                    p.detach().clone(), requires_grad=p.requires_grad))
    return out


def parameter_slices(layers: Dict[str, LayerRecord],
                     keep: Tensor) -> Dict[str, Tuple]:
    """How :func:`prune_model_` slices each parameter: ``{param name
    (relative to the model): (kept indices along dim 0 or None, along
    dim 1 or None)}``, for parameters that lose entries. Optimizer state
    (momentum, Adam moments) is sliced the same way when training moves to
    the exported model."""
    out = {}

    def idx(k):
        return None if k is None else k.nonzero().flatten()

    for rec in layers.values():
        ko, ki = pruned_sides(rec, keep)
        if ko is None and ki is None:
            continue
        if rec.kind == 'conv' and rec.tied:
            k = idx(ko if ko is not None else ki)
            out[f'{rec.name}.weight'] = (k, None)
            out[f'{rec.name}.bias'] = (k, None)
        elif rec.kind in ('conv', 'linear'):
            ki_local = ki if ki is None or rec.groups == 1 else local_keep(
                ki, rec.groups)
            out[f'{rec.name}.weight'] = (idx(ko), idx(ki_local))
            if ko is not None:
                out[f'{rec.name}.bias'] = (idx(ko), None)
        elif rec.kind == 'param':
            if ko is not None:
                out[rec.name] = (None, ) * rec.param_dim + (idx(ko), )
        elif rec.kind == 'attention':
            if ko is not None:
                out.update(attention_parameter_slices(rec, ko))
        elif ko is not None:
            lead = (None, ) * (norm_param_dim(rec)
                               if rec.kind == 'group_norm' else 0)
            out[f'{rec.name}.weight'] = lead + (idx(ko), )
            out[f'{rec.name}.bias'] = lead + (idx(ko), )
    return out


def slice_tensor(t: Tensor, slices) -> Tensor:
    """``t`` restricted to ``slices`` (see :func:`parameter_slices`)."""
    for dim, k in enumerate(slices):
        if k is not None:
            t = t.index_select(dim, k.to(t.device))
    return t
