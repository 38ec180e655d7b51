"""ChannelPruner: channel spaces, metric scores, subnet sampling, masks and
export behind mmrazor 0.x's pruner interface."""
import warnings
from typing import Dict, List, Optional, Sequence

import torch
from mmcv.runner import BaseModule
from mmrazor.models.builder import PRUNERS
from torch import Tensor, nn

from ..metrics import build_metric
from . import scoring
from .autoslim_mixin import AutoSlimMixin
from .export import parameter_slices
from .export_check import check_export_mode
from .export_check_mixin import ExportCheckMixin
from .flops import count_flops_params, count_graph
from .graph.channel_space import ChannelSpace, build_channel_spaces
from .graph.graph_tracer import GraphTracer, trace_graph
from .graph.model_graph import ModelGraph
from .graph.op_counter import resolve_positions
from .graph.trace_input import resolve_callable
from .masks import attach_masks, set_masks
from .param_masks import ParamMasks, param_masks
from .sampling import subnets
from .sampling.sampler import SamplingMixin
from .sampling.subnet_io import (check_subnet, load_subnet, save_subnet,
                                 spaces_left_out)
from .sampling.subnets import SpaceScores

Subnet = Dict[str, List[int]]


@PRUNERS.register_module()
class ChannelPruner(SamplingMixin, AutoSlimMixin, ExportCheckMixin,
                    BaseModule):
    """Channel pruner driven by importance scores.

    A ``ratio`` is the fraction of a space's channels REMOVED (0.3 keeps
    70%); only ``keep_ratios`` (AutoSlim's widths) count channels KEPT.
    A subnet is ``{space_name: sorted kept channel indices}``.

    Args:
        input_shape: ``(C, H, W)`` of the dummy input used for tracing;
            FLOPs are counted at this size.
        min_channels: fewest channels (units) any space keeps, >= 1.
        divisor: kept counts are rounded to a multiple of it (e.g. 8).
        keep_ratios: widths, as the fraction of each space's channels
            KEPT, that ``sample_subnet`` draws from, for ``AutoSlim``.
        ratios: alias of ``keep_ratios`` under the name mmrazor's
            ``RatioPruner`` gives it, so an AutoSlim config works
            unchanged; passing both is an error.
        except_start_keys: spaces with a producer whose name starts with one
            of these are never pruned.
        seed: seed of the generator used by ``sample_subnet``.
        score_members: ``'producers'`` (the producers' output rows) or
            ``'coupled'`` (also the norms' scale and the consumers' input
            columns) scored by a weight metric, see ``scoring.py``.
        score_reduce: ``'mean'``, ``'sum'`` or ``'max'`` of a unit's
            entries over its members.
        score_norm: ``'member_max'``, ``'member_mean'`` (each member's
            scores divided by their max / mean magnitude first) or
            ``'none'``.
        min_keep_fraction: in ``sample_subnet_diff``, every space keeps at
            least this fraction of its channels (and ``min_channels``).
        diff_norm: how ``sample_subnet_diff`` makes spaces comparable:
            ``'max'`` (scores divided by their largest magnitude),
            ``'minmax'`` (mapped onto [0, 1]), ``'standard'`` (z-scores),
            ``'rank'`` (rank inside the space over its size) or
            ``'auto'``: the preference of the metric that made the scores
            (its ``diff_norm``: ``'rank'`` for CDP), else ``'max'``
            unless some score is negative, then ``'minmax'``.
        forward_fn: ``(model, x) -> outputs`` run by the trace, for models
            whose forward needs more than one image tensor (a callable, or
            an import path ``'package.module:name'`` in a config); default
            :func:`mmrazor_ext.adapters.trace_forward`.
        example_input: the traced input ``x`` instead of a random
            ``(2, *input_shape)`` batch: a tensor ``(N, C, ...)`` or a
            callable / import path returning one. FLOPs are per sample
            of it.
        export_check: what :meth:`export` does when the exported model
            fails on the trace input or differs from the masked model
            (relative 1e-4): ``'keep_whole'`` (default) keeps the channel
            spaces involved whole, with a warning naming each and the
            reason, and exports again; ``'strict'`` raises one line;
            ``'off'`` skips the check. Preparing exports a trial subnet
            once the same way, so such spaces are unprunable from the
            start (see ``export_check.py``).

    Examples:
        >>> pruner = build_pruner(dict(type='ChannelPruner',
        ...                            input_shape=(3, 64, 64)))
        >>> pruner.prepare_from_supernet(model)
        >>> scores = pruner.get_metric_local('L1Metric')
        >>> subnet = pruner.sample_subnet_uniform(0.3, scores)
        >>> pruner.set_subnet(subnet)
        >>> small = pruner.export()
    """

    def __init__(self, input_shape=(3, 224, 224), min_channels: int = 1,
                 divisor: int = 1,
                 keep_ratios: Optional[Sequence[float]] = None,
                 except_start_keys: Optional[Sequence[str]] = None,
                 seed: Optional[int] = None, init_cfg=None,
                 ratios: Optional[Sequence[float]] = None,
                 score_members: str = 'producers',
                 score_reduce: str = 'mean', score_norm: str = 'member_max',
                 min_keep_fraction: float = 0.0, diff_norm: str = 'auto',
                 forward_fn=None, example_input=None,
                 export_check: str = 'keep_whole'):
        super().__init__(init_cfg)
        self.export_check = check_export_mode(export_check)
        self.forward_fn = resolve_callable(forward_fn, 'forward_fn')
        self.example_input = example_input if isinstance(
            example_input, Tensor) else resolve_callable(
                example_input, 'example_input')
        scoring.check_options(score_members, score_reduce, score_norm)
        self.score_members, self.score_reduce = score_members, score_reduce
        self.score_norm = score_norm
        if not 0 <= float(min_keep_fraction) <= 1:
            raise ValueError('min_keep_fraction must be in [0, 1], got '
                             f'{min_keep_fraction}')
        self.min_keep_fraction = float(min_keep_fraction)
        if diff_norm not in subnets.DIFF_NORMS:
            raise ValueError(f'diff_norm must be one of '
                             f'{subnets.DIFF_NORMS}, got {diff_norm!r}')
        self.diff_norm = diff_norm
        if int(min_channels) < 1:
            raise ValueError(f'min_channels must be >= 1, got {min_channels}')
        if int(divisor) < 1:
            raise ValueError(f'divisor must be >= 1, got {divisor}')
        self.input_shape = tuple(input_shape)
        self.min_channels = int(min_channels)
        self.divisor = int(divisor)
        if ratios is not None:
            if keep_ratios is not None:
                raise ValueError('give keep_ratios or its alias ratios, '
                                 'not both')
            keep_ratios = ratios
        self.keep_ratios = sorted(keep_ratios) \
            if keep_ratios is not None else None
        self.except_start_keys = list(except_start_keys or [])
        self.generator = torch.Generator()
        if seed is not None:
            self.generator.manual_seed(seed)
        self.channel_spaces: List[ChannelSpace] = []
        self.trace_warnings: List[str] = []
        self._model = None  # not a submodule: the pruner does not own it

    # ------------------------------------------------------------ tracing
    @property
    def model(self) -> nn.Module:
        if self._model is None:
            raise RuntimeError('call prepare_from_supernet(model) first')
        return self._model[0]

    def prepare_from_supernet(self, supernet: nn.Module) -> None:
        """Trace ``supernet`` (a model, or an mmrazor architecture with a
        ``model``), build its channel spaces and attach masks (all ones)."""
        model = supernet.model if hasattr(supernet, 'model') and isinstance(
            supernet.model, nn.Module) else supernet
        if not isinstance(model, nn.Module):
            raise TypeError(f'expected an nn.Module, got {type(model)}')
        res = GraphTracer(self.input_shape, forward_fn=self.forward_fn,
                          example_input=self.example_input).trace(model)
        spaces, layers = build_channel_spaces(res, model)
        resolve_positions(res.ops, res.union, layers)
        self.graph = res.graph
        self.counted_ops, self.used_params = res.ops, res.used_params
        self.trace_batch = res.batch
        for sp in spaces:
            if sp.prunable and any(p.startswith(k) for p in sp.producers
                                   for k in self.except_start_keys):
                sp.prunable, sp.reason = False, 'except_start_keys'
        self._renumber(spaces, layers)
        attach_masks(model, layers)
        self._model = (model, )
        self.layers, self.channel_spaces = layers, spaces
        self.trace_warnings = res.warnings
        self.keep = torch.ones(self.num_units, dtype=torch.bool)
        set_masks(model, layers, self.keep)
        self._start_export_check(res.input)

    def _renumber(self, spaces, layers):
        """Drop units of spaces made unprunable after grouping."""
        old = [(sp.offset, sp.num_channels, sp.prunable) for sp in spaces]
        end = max((o + n for o, n, _ in old), default=0)
        table = torch.full((end + 1, ), -1, dtype=torch.long)
        offset = 0
        for sp, (o, n, _) in zip(spaces, old):
            if sp.prunable:
                table[o:o + n] = torch.arange(offset, offset + n)
                sp.offset = offset
                offset += n
        for rec in layers.values():
            for side in ('in_pos', 'out_pos'):
                pos = getattr(rec, side)
                if pos is not None:
                    setattr(rec, side, torch.where(
                        pos >= 0, table[pos.clamp(min=0)], pos))
        for op in self.counted_ops:
            for entry in op.dims:
                if entry[1] is not None:
                    entry[1] = torch.where(entry[1] >= 0, table[
                        entry[1].clamp(min=0)], entry[1])
        self.num_units = offset

    @property
    def prunable_spaces(self) -> List[ChannelSpace]:
        return [sp for sp in self.channel_spaces if sp.prunable]

    def space_names(self) -> List[str]:
        """Names of the prunable spaces, in order."""
        return [sp.name for sp in self.prunable_spaces]

    def feature_layer_names(self) -> List[str]:
        """Per prunable space, the layer whose output carries its channels
        (keys of ``contents`` for 'feature' metrics)."""
        return [sp.feature_layer for sp in self.prunable_spaces]

    # ------------------------------------------------------------ scores
    def get_metric_local(self, metric, contents=None, members=None,
                         reduce=None, norm=None) -> Dict[str, Tensor]:
        """Per-space channel scores from a metric.

        Args:
            metric: metric name, config dict or instance (see
                ``mmrazor_ext.metrics.build_metric``).
            contents: ``{layer_name: tensor}`` as the metric's
                ``input_kind`` asks. For 'conv_weight' / 'norm_weight' the
                pruner reads the weights itself when None; for 'feature' it is
                required, keyed by :meth:`feature_layer_names`.
            members, reduce, norm: override ``score_members``,
                ``score_reduce``, ``score_norm`` of this call (see
                ``pruners/scoring.py``).

        Returns:
            ``{space_name: 1-D scores}`` (one per unit), a
            :class:`SpaceScores` carrying the metric's ``diff_norm``
            preference. By default each producer's scores are divided by
            their maximum, then averaged per unit.
        """
        members = self.score_members if members is None else members
        reduce = self.score_reduce if reduce is None else reduce
        norm = self.score_norm if norm is None else norm
        scoring.check_options(members, reduce, norm)
        metric = build_metric(metric)
        kind = metric.input_kind
        spaces = self.prunable_spaces
        if kind in ('conv_weight', 'norm_weight'):
            weights, sides = scoring.member_contents(
                self.model, spaces, self.layers, kind, members)
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
            s = scoring.reduce_space(sp, sides[sp.name], layer_scores,
                                     self.layers, reduce, norm)
            if s is None:
                raise ValueError(
                    f'no {kind} scores for space {sp.name!r} (expected one '
                    f'of {[e[0] for e in sides[sp.name]]})')
            out[sp.name] = s.float()
        return SpaceScores(out, metric.diff_norm)

    # ------------------------------------------------------------ subnets
    def _keep_from(self, subnet) -> Tensor:
        sizes = self._sizes()
        subnet = check_subnet(self._drop_kept_whole(
            self._as_indices(subnet)), sizes)
        keep = torch.ones(self.num_units, dtype=torch.bool)
        for sp in self.prunable_spaces:
            if sp.name in subnet:
                k = torch.zeros(sp.num_channels, dtype=torch.bool)
                k[subnet[sp.name]] = True
                keep[sp.offset:sp.offset + sp.num_channels] = k
        return keep

    @staticmethod
    def _as_indices(subnet):
        """Mask tensors (mmrazor style) become index lists."""
        if not isinstance(subnet, dict):
            return subnet
        return {n: (v.flatten().nonzero().flatten().tolist()
                    if isinstance(v, Tensor) and v.dtype != torch.long
                    else v) for n, v in subnet.items()}

    def set_subnet(self, subnet) -> None:
        """Apply ``{space: kept indices}`` (or 0/1 mask tensors) as masks.
        Checked in full before any mask changes."""
        keep = self._keep_from(subnet)
        set_masks(self.model, self.layers, keep)
        self.keep = keep

    def get_subnet(self) -> Subnet:
        """The subnet currently applied."""
        return self.subnet_from_keep(self.keep)

    def keep_vector(self, subnet=None) -> Tensor:
        """The subnet applied (or ``subnet``) as one bool per prunable
        unit: a fixed-length tensor, e.g. to carry in a state dict."""
        return (self.keep if subnet is None else
                self._keep_from(subnet)).clone()

    def subnet_from_keep(self, keep: Tensor) -> Subnet:
        """``{space: kept indices}`` of a :meth:`keep_vector`."""
        keep = keep.cpu().bool()
        if keep.numel() != self.num_units:
            raise ValueError(f'keep vector has {keep.numel()} entries, this '
                             f'model has {self.num_units} prunable units')
        return {sp.name: keep[sp.offset:sp.offset + sp.num_channels]
                .nonzero().flatten().tolist() for sp in self.prunable_spaces}

    def param_masks(self) -> ParamMasks:
        """``(parameter, 0/1 mask)`` for every parameter of the model that
        touches a pruned channel of the subnet applied (for
        :func:`zero_pruned_`: masked training with pruned weights held at
        zero)."""
        return param_masks(self.model, self.layers, self.keep)

    def parameter_slices(self, subnet=None) -> Dict[str, tuple]:
        """Per parameter name of the model, the indices kept along each
        dimension by :meth:`export` (see ``export.parameter_slices``)."""
        keep = self.keep if subnet is None else self._keep_from(subnet)
        return parameter_slices(self.layers, keep)

    def save_subnet(self, subnet: Subnet, path: str) -> None:
        """Write ``subnet`` as JSON; spaces it leaves out are written as
        ``keep_whole``."""
        save_subnet(check_subnet(self._as_indices(subnet), self._sizes()),
                    path, self._sizes())

    def load_subnet(self, path: str) -> Subnet:
        """Read a subnet file and check it against this model. Spaces the
        file leaves out without stating them in ``keep_whole`` keep all
        their channels, with a warning naming them."""
        data = load_subnet(path)
        sizes = self._sizes()
        subnet = check_subnet(self._drop_kept_whole(data.subnet), sizes,
                              data.num_channels)
        left = spaces_left_out(subnet, sizes, data.keep_whole)
        if left:
            names = ', '.join(left[:3]) + (
                f' and {len(left) - 3} more' if len(left) > 3 else '')
            warnings.warn(f'subnet {path} leaves out {len(left)} of '
                          f'{len(sizes)} prunable spaces, kept whole: '
                          f'{names} (list them in "keep_whole", or write '
                          '"keep_whole": "all_others", to say so)')
        return subnet

    # ------------------------------------------------------------ results
    def flops_params(self, subnet=None):
        """``(flops, params)`` per sample of the model under ``subnet``:
        the multiply-accumulates of every conv / matmul / attention op the
        forward runs and the parameters it reads (see ``flops.py``).

        Args:
            subnet: ``{space: kept indices}``; None (the default, as for
                :meth:`export`): the subnet set by :meth:`set_subnet`;
                ``{}``: the unpruned model (every space kept whole, as
                ``set_subnet({})``).

        Examples:
            >>> full_flops, full_params = pruner.flops_params({})
            >>> pruner.set_subnet(sub)
            >>> pruner.flops_params() == pruner.flops_params(sub)
            True
        """
        keep = self.keep if subnet is None else self._keep_from(subnet)
        slices = parameter_slices(self.layers, keep) if not bool(
            keep.all()) else {}
        return count_flops_params(self.counted_ops, self.used_params,
                                  slices, keep, self.trace_batch)

    def trace_graph(self, model: nn.Module) -> ModelGraph:
        """The graph of one forward pass of any ``model`` (e.g. an
        exported one) traced as the prepared model was, without channel
        analysis (``graph/model_graph.py``); ``self.graph`` is the
        prepared model's."""
        return trace_graph(model, self.input_shape, self.forward_fn,
                           self.example_input)

    def count(self, model: nn.Module):
        """``(flops, params)`` per sample of any ``model`` by the same
        counter as :meth:`flops_params` (for an exported model they are
        equal), at this pruner's input."""
        return count_graph(self.trace_graph(model))

    def export(self, subnet=None) -> nn.Module:
        """An ordinary ``nn.Module`` copy with the pruned channels removed
        (``subnet`` defaults to the one set, as for :meth:`flops_params`;
        ``{}`` exports the unpruned model), run once on the trace input
        and checked against the masked model (``export_check``)."""
        keep = self.keep if subnet is None else self._keep_from(subnet)
        return self._checked_export(keep)
