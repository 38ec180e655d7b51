"""ChannelPruner: channel spaces, metric scores, subnet sampling, masks and
export behind mmrazor 0.x's pruner interface, composed of small parts: the
traced graph and its layer records (``graph/``, ``handlers/``), a table of
the prunable spaces (``sampling/space_table.py``) and a subnet sampler
(``sampling/sampler.py``). AutoSlim's interface is its own pruner,
``AutoSlimPruner`` (``autoslim_pruner.py``)."""
import warnings
from typing import Dict, List, Optional, Sequence

import torch
from mmcv.runner import BaseModule
from mmrazor.models.builder import PRUNERS
from torch import Tensor, nn

from ..adapters import trace_forward
from ..metrics import build_metric
from . import scoring
from .export import (channel_cfg, export_pruned_model, parameter_slices,
                     prune_model_)
from .export_check import check_export_mode
from .export_checker import ExportChecker
from .flops import count_flops_params, count_graph
from .graph.channel_space import (ChannelSpace, build_channel_spaces,
                                  renumber_units)
from .graph.graph_tracer import GraphTracer, trace_graph
from .graph.model_graph import ModelGraph
from .graph.op_counter import resolve_positions
from .graph.trace_input import resolve_callable
from .masks import attach_masks, detach_masks, set_masks
from .param_masks import ParamMasks, param_masks
from .sampling import subnets
from .sampling.sampler import SubnetSampler
from .sampling.space_table import SpaceTable
from .sampling.width_rounding import DEFAULT_DIVISOR

Subnet = Dict[str, List[int]]


@PRUNERS.register_module()
class ChannelPruner(BaseModule):
    """Channel pruner driven by importance scores.

    A ``ratio`` is the fraction of a space's channels REMOVED (0.3 keeps
    70%). A subnet is ``{space_name: sorted kept channel indices}``.

    Args:
        input_shape: ``(C, H, W)`` of the dummy input used for tracing;
            FLOPs are counted at this size.
        min_channels: fewest channels (units) any space keeps, >= 1.
        divisor: kept counts are rounded to a multiple of it, or the
            whole space; a space not wider than it is kept whole unless a
            FLOPs target needs it (see ``sampling/width_rounding.py``).
            The default, 16, is the width ONNX Runtime runs fastest
            (docs/deploy.md); 1 rounds to the nearest channel.
        except_start_keys: spaces with a producer whose name starts with one
            of these are never pruned.
        seed: seed of ``generator`` (AutoSlim's ``sample_subnet`` draws
            from it).
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
            (its ``diff_norm``: ``'rank'`` for CDP and HRank), else ``'max'``
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

    ``keep_ratios`` / ``ratios`` (AutoSlim's widths) given to
    ``ChannelPruner`` build an :class:`AutoSlimPruner`, with a warning:
    configs written before it existed keep working.

    Examples:
        >>> pruner = build_pruner(dict(type='ChannelPruner',
        ...                            input_shape=(3, 64, 64)))
        >>> pruner.prepare_from_supernet(model)
        >>> scores = pruner.get_metric_local('L1Metric')
        >>> subnet = pruner.sample_subnet_uniform(0.3, scores)
        >>> pruner.set_subnet(subnet)
        >>> small = pruner.export()
    """

    def __new__(cls, *args, **kwargs):
        if cls is ChannelPruner and (kwargs.get('keep_ratios') is not None
                                     or kwargs.get('ratios') is not None):
            warnings.warn(
                "ChannelPruner(keep_ratios=...) is deprecated: use "
                "dict(type='AutoSlimPruner', keep_ratios=...) (the same "
                'arguments)', DeprecationWarning, stacklevel=2)
            cls = PRUNERS.get('AutoSlimPruner')  # its subclass
        return super().__new__(cls)

    def __init__(self, input_shape=(3, 224, 224), min_channels: int = 1,
                 divisor: int = DEFAULT_DIVISOR,
                 except_start_keys: Optional[Sequence[str]] = None,
                 seed: Optional[int] = None, init_cfg=None,
                 score_members: str = 'producers',
                 score_reduce: str = 'mean', score_norm: str = 'member_max',
                 min_keep_fraction: float = 0.0, diff_norm: str = 'auto',
                 forward_fn=None, example_input=None,
                 export_check: str = 'keep_whole'):
        super().__init__(init_cfg)
        self.export_check = check_export_mode(export_check)
        self.checker = ExportChecker()
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
        self.except_start_keys = list(except_start_keys or [])
        self.generator = torch.Generator()
        if seed is not None:
            self.generator.manual_seed(seed)
        self.table = SpaceTable()
        self.trace_warnings: List[str] = []
        self._model = None  # not a submodule: the pruner does not own it

    # ------------------------------------------------------------ tracing
    @property
    def model(self) -> nn.Module:
        if self._model is None:
            raise RuntimeError('call prepare_from_supernet(model) first')
        return self._model[0]

    @property
    def is_prepared(self) -> bool:
        """Whether a model is traced and masked (and not pruned in place
        since)."""
        return self._model is not None

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
        for sp in spaces:
            if sp.prunable and any(p.startswith(k) for p in sp.producers
                                   for k in self.except_start_keys):
                sp.prunable, sp.reason = False, 'except_start_keys'
        num_units = renumber_units(spaces, layers, res.ops)
        self.graph = res.graph
        self.counted_ops, self.used_params = res.ops, res.used_params
        self.trace_batch = res.batch
        held = attach_masks(model, layers)
        self._model = (model, )
        self.layers, self.table = layers, SpaceTable(spaces, num_units)
        self.trace_warnings = res.warnings
        self.keep = self.table.keep_from({})
        if held:  # the others keep every channel already
            set_masks(model, held, self.keep)
        self._start_export_check(res.input)

    def _start_export_check(self, x: Tensor) -> None:
        """Export a trial subnet once; the spaces it cannot export become
        unprunable before any sampling."""
        self.checker.start(self.model, self.layers, x,
                           self.forward_fn or trace_forward,
                           self.export_check)
        found = self.checker.trial(self.prunable_spaces, self.num_units,
                                   self.keep, self._export_keep,
                                   self.export_check)
        if found is None:
            return
        if found:
            self._keep_whole(found)
            self.table = SpaceTable(self.channel_spaces, renumber_units(
                self.channel_spaces, self.layers, self.counted_ops))
            self.keep = self.table.keep_from({})
        set_masks(self.model, self.layers, self.keep)

    def _keep_whole(self, found: Dict[str, str]) -> None:
        for sp in self.channel_spaces:
            if sp.name in found:
                sp.prunable, sp.reason = False, found[sp.name]
                msg = (f'channel space {sp.name!r} kept whole: '
                       f'{found[sp.name]}')
                self.trace_warnings.append(msg)
                warnings.warn(msg)
        self.table = SpaceTable(self.channel_spaces, self.num_units)

    @property
    def kept_whole_on_export(self) -> Dict[str, str]:
        """``{space: reason}`` found unexportable by :meth:`export` so
        far (kept whole from then on)."""
        return self.checker.kept_whole

    @property
    def export_check_seconds(self) -> float:
        """Seconds spent checking exported models so far."""
        return self.checker.seconds

    @property
    def channel_spaces(self) -> List[ChannelSpace]:
        """Every channel space, prunable or not, in forward order."""
        return self.table.spaces

    @property
    def prunable_spaces(self) -> List[ChannelSpace]:
        return self.table.prunable

    @property
    def num_units(self) -> int:
        """Units of all prunable spaces (length of a keep vector)."""
        return self.table.num_units

    def space_names(self) -> List[str]:
        """Names of the prunable spaces, in order."""
        return self.table.names()

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
        return scoring.space_scores(
            build_metric(metric), contents, self.model, self.prunable_spaces,
            self.layers, self.score_members if members is None else members,
            self.score_reduce if reduce is None else reduce,
            self.score_norm if norm is None else norm)

    # ------------------------------------------------------------ subnets
    @property
    def sampler(self) -> SubnetSampler:
        """The subnet sampler with this pruner's settings."""
        return SubnetSampler(self.table, self.flops_params,
                             self.min_channels, self.divisor,
                             self.min_keep_fraction, self.diff_norm)

    def sample_subnet_uniform(self, ratio: float, scores=None) -> Subnet:
        """Remove ``ratio`` of every space's channels (see
        :meth:`SubnetSampler.sample_subnet_uniform`)."""
        return self.sampler.sample_subnet_uniform(ratio, scores)

    def sample_subnet_diff(self, ratio: float, scores=None) -> Subnet:
        """Remove ``ratio`` of all channels by one global ranking (see
        :meth:`SubnetSampler.sample_subnet_diff`)."""
        return self.sampler.sample_subnet_diff(ratio, scores)

    def sample_subnet_nonuni(self, ratios, scores=None) -> Subnet:
        """Remove ``ratios[space]`` of each space's channels (see
        :meth:`SubnetSampler.sample_subnet_nonuni`)."""
        return self.sampler.sample_subnet_nonuni(ratios, scores)

    def sample_subnet_flops(self, target: float, scores=None,
                            mode: str = 'diff', tolerance: float = 0.02,
                            steps: int = 40) -> Subnet:
        """Subnet removing at least ``target`` of the FLOPs, within
        ``tolerance * target`` of it (see
        :meth:`SubnetSampler.sample_subnet_flops`)."""
        return self.sampler.sample_subnet_flops(target, scores, mode,
                                                tolerance, steps)

    def max_flops_reduction(self) -> float:
        """The largest fraction of the FLOPs a subnet can remove (see
        :meth:`SubnetSampler.max_flops_reduction`)."""
        return self.sampler.max_flops_reduction()

    def _keep(self, subnet) -> Tensor:
        return self.keep if subnet is None else self.table.keep_from(
            self.checker.drop_kept_whole(subnet))

    def set_subnet(self, subnet) -> None:
        """Apply ``{space: kept indices}`` (or 0/1 mask tensors) as masks.
        Checked in full before any mask changes."""
        keep = self._keep(subnet)
        set_masks(self.model, self.layers, keep)
        self.keep = keep

    def get_subnet(self) -> Subnet:
        """The subnet currently applied."""
        return self.table.subnet_from(self.keep)

    def keep_vector(self, subnet=None) -> Tensor:
        """The subnet applied (or ``subnet``) as one bool per prunable
        unit: a fixed-length tensor, e.g. to carry in a state dict."""
        return self._keep(subnet).clone()

    def subnet_from_keep(self, keep: Tensor) -> Subnet:
        """``{space: kept indices}`` of a :meth:`keep_vector`."""
        return self.table.subnet_from(keep)

    def param_masks(self) -> ParamMasks:
        """``(parameter, 0/1 mask)`` for every parameter of the model that
        touches a pruned channel of the subnet applied (for
        :func:`zero_pruned_`: masked training with pruned weights held at
        zero)."""
        return param_masks(self.model, self.layers, self.keep)

    def parameter_slices(self, subnet=None) -> Dict[str, tuple]:
        """Per parameter name of the model, the indices kept along each
        dimension by :meth:`export` (see ``export.parameter_slices``)."""
        return parameter_slices(self.layers, self._keep(subnet))

    def save_subnet(self, subnet: Subnet, path: str) -> None:
        """Write ``subnet`` as JSON; spaces it leaves out are written as
        ``keep_whole``."""
        self.table.save(subnet, path)

    def load_subnet(self, path: str) -> Subnet:
        """Read a subnet file and check it against this model (spaces it
        leaves out unstated keep all their channels, with a warning)."""
        return self.table.load(path, self.checker.drop_kept_whole)

    # ------------------------------------------------------------ results
    def flops_params(self, subnet=None, without: Sequence[str] = ()):
        """``(flops, params)`` per sample of the model under ``subnet``:
        the multiply-accumulates of every conv / matmul / attention op the
        forward runs and the parameters it reads (see ``flops.py``).

        Args:
            subnet: ``{space: kept indices}``; None (the default, as for
                :meth:`export`): the subnet set by :meth:`set_subnet`;
                ``{}``: the unpruned model (every space kept whole, as
                ``set_subnet({})``).
            without: Modules left out with all they contain: identity
                shortcut blocks replaced by ``nn.Identity`` (Fusion's
                ``remove_blocks``), counted as that model would be.

        Examples:
            >>> full_flops, full_params = pruner.flops_params({})
            >>> pruner.set_subnet(sub)
            >>> pruner.flops_params() == pruner.flops_params(sub)
            True
        """
        keep = self._keep(subnet)
        slices = parameter_slices(self.layers, keep) if not bool(
            keep.all()) else {}
        return count_flops_params(self.counted_ops, self.used_params,
                                  slices, keep, self.trace_batch, without)

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

    def channel_cfg(self, subnet=None) -> Dict[str, dict]:
        """``{layer: {in_channels, out_channels, raw_in_channels,
        raw_out_channels}}`` under ``subnet`` (the one set by default):
        mmrazor's ``channel_cfg``."""
        return channel_cfg(self.layers, self._keep(subnet))

    def _export_keep(self, keep: Tensor) -> nn.Module:
        return export_pruned_model(self.model, self.layers, keep)

    def export(self, subnet=None, inplace: bool = False) -> nn.Module:
        """An ordinary ``nn.Module`` with the pruned channels removed
        (``subnet`` defaults to the one set, as for :meth:`flops_params`;
        ``{}`` exports the unpruned model): a copy, run once on the trace
        input and checked against the masked model (``export_check``:
        spaces found unexportable are kept whole from then on, in the
        subnet set too); or, with ``inplace``, the traced model itself,
        unchecked, masks removed (the pruner must then trace it again to
        prune more)."""
        keep = self._keep(subnet)
        if not inplace:
            small, found, held = self.checker.export(
                self.prunable_spaces, keep, self._export_keep, self.keep,
                self.export_check)
            if found:
                for sp in self.prunable_spaces:
                    if sp.name in found:
                        self.keep[sp.offset:sp.offset + sp.num_channels] = \
                            True
                self._keep_whole(found)
            if held is None or not torch.equal(held, self.keep):
                set_masks(self.model, self.layers, self.keep)
            return small
        model = self.model
        detach_masks(model)
        prune_model_(model, self.layers, keep)
        self._model = None
        return model
