"""Per-space channel scores from per-layer metric scores.

A channel space's score of a unit gathers the scores its member layers give
it. Which layers are members (``members``), how their entries are combined
(``reduce``) and how each member is scaled first (``norm``) are options:

- ``members='producers'``: the layers producing the channels (for a
  ``norm_weight`` metric, the norms; for a ``feature`` metric, the feature
  layer), as the project always did.
- ``members='coupled'`` (weight metrics): every parameter coupled to the
  channel, as Torch-Pruning's group importance: the producers' output rows
  (and those of depthwise convs tied to the space), the norms' scale (the
  metric applied to ``gamma`` as a ``[C, 1]`` weight) and the consumers'
  input columns (the metric applied to the consumer's weight transposed
  to ``[in, out, ...]``, per group for grouped convs).
  ``norm_weight`` metrics are defined on ``gamma`` only: their coupled set
  is the norms.
- ``reduce``: ``'mean'``, ``'sum'`` or ``'max'`` over every (member, position)
  entry mapped to a unit.
- ``norm``: ``'member_max'`` divides each member's scores by their largest
  magnitude before the reduction, ``'member_mean'`` by their mean magnitude,
  ``'none'`` reduces raw values.
"""
from typing import Dict, List

import torch
from torch import Tensor

from .sampling.subnets import SpaceScores

MEMBERS = ('producers', 'coupled')
REDUCE = ('mean', 'sum', 'max')
NORM = ('member_max', 'member_mean', 'none')


def check_options(members: str, reduce: str, norm: str) -> None:
    """``ValueError`` naming the option whose value is not known."""
    for what, value, allowed in (('score_members', members, MEMBERS),
                                 ('score_reduce', reduce, REDUCE),
                                 ('score_norm', norm, NORM)):
        if value not in allowed:
            raise ValueError(f'{what} must be one of {allowed}, got '
                             f'{value!r}')


def input_columns(weight: Tensor, groups: int) -> Tensor:
    """A conv / linear weight ``[out, in/groups, ...]`` as ``[in, out/groups,
    ...]``: row ``c`` holds every weight reading input channel ``c``."""
    out, per_group = weight.shape[:2]
    rest = weight.shape[2:]
    w = weight.reshape(groups, out // groups, per_group, *rest)
    return w.transpose(1, 2).reshape(groups * per_group, out // groups,
                                     *rest)


def member_contents(model, spaces, layers, kind: str, members: str):
    """``(contents, sides)``: the tensors to score, keyed ``'layer'`` (output
    side) or ``'layer#in'`` (input columns of a consumer), and for each
    space the keys and the side (``'out_pos'`` / ``'in_pos'``) they map
    through."""
    contents, sides = {}, {}
    for sp in spaces:
        if kind == 'norm_weight':
            names = [(n, 'out') for n in sp.norms]
        elif members == 'coupled':
            names = [(n, 'out') for n in
                     sp.producers + sp.passthrough + sp.norms] + \
                    [(n, 'in') for n in sp.consumers]
        else:
            names = [(n, 'out') for n in sp.producers]
        sides[sp.name] = []
        for n, side in names:
            w = getattr(model.get_submodule(n), 'weight', None)
            if w is None:
                continue
            w = w.detach()
            rec = layers[n]
            if side == 'in':
                if w.dim() < 2:
                    continue
                key = n + '#in'
                contents[key] = input_columns(w, rec.groups)
                sides[sp.name].append((key, n, 'in_pos'))
            else:
                if kind == 'conv_weight' and w.dim() == 1:
                    w = w.view(-1, 1)  # a norm's gamma, one row per channel
                contents[n] = w
                sides[sp.name].append((n, n, 'out_pos'))
    return contents, sides


def reduce_space(sp, entries: List, layer_scores: Dict[str, Tensor],
                 layers, reduce: str, norm: str) -> Tensor:
    """Scores of one space's units from ``entries`` = ``[(key, layer,
    side)]``; units no entry reaches score 0; None when no entry reaches
    any unit."""
    n = sp.num_channels
    acc = torch.zeros(n, dtype=torch.float64)
    cnt = torch.zeros(n, dtype=torch.float64)
    if reduce == 'max':
        acc.fill_(-float('inf'))
    for key, layer, side in entries:
        if key not in layer_scores:
            continue
        pos = getattr(layers[layer], side)
        s = layer_scores[key].double().cpu()
        if pos is None or s.numel() != pos.numel():
            continue
        if norm == 'member_max':
            s = s / s.abs().max().clamp(min=1e-12)
        elif norm == 'member_mean':
            s = s / s.abs().mean().clamp(min=1e-12)
        m = (pos >= sp.offset) & (pos < sp.offset + n)
        idx = pos[m] - sp.offset
        if reduce == 'max':
            acc.scatter_reduce_(0, idx, s[m], 'amax')
        else:
            acc.index_add_(0, idx, s[m])
        cnt.index_add_(0, idx, torch.ones_like(s[m]))
    if reduce == 'mean':
        acc = acc / cnt.clamp(min=1)
    if not bool((cnt > 0).any()):
        return None
    acc[cnt == 0] = 0
    return acc


def space_scores(metric, contents, model, spaces, layers, members: str,
                 reduce: str, norm: str) -> Dict[str, Tensor]:
    """``{space: 1-D scores}`` (one per unit) of ``metric`` (an instance)
    over the prunable ``spaces``, a ``SpaceScores`` carrying the metric's
    ``diff_norm`` preference: the members' weights read from
    ``model`` (weight metrics, when ``contents`` is None) or ``contents``
    keyed by the spaces' feature layers (feature metrics)."""
    check_options(members, reduce, norm)
    kind = metric.input_kind
    if kind in ('conv_weight', 'norm_weight'):
        weights, sides = member_contents(model, spaces, layers, kind,
                                         members)
        if contents is None:
            contents = weights
    elif kind == 'feature':
        if contents is None:
            raise ValueError(
                f'{type(metric).__name__} scores features: pass contents '
                '{layer: features or statistics} keyed by '
                'pruner.feature_layer_names()')
        sides = {sp.name: [(sp.feature_layer, sp.feature_layer,
                            'out_pos')] for sp in spaces}
    else:
        raise ValueError(f'unknown metric input_kind {kind!r}')
    layer_scores = metric(dict(contents))
    out = {}
    for sp in spaces:
        s = reduce_space(sp, sides[sp.name], layer_scores, layers, reduce,
                         norm)
        if s is None:
            raise ValueError(
                f'no {kind} scores for space {sp.name!r} (expected one '
                f'of {[e[0] for e in sides[sp.name]]})')
        out[sp.name] = s.float()
    return SpaceScores(out, metric.diff_norm)
