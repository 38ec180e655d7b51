"""Channel pruning: tracing, channel spaces, masks, export (issue 3)."""
from .autoslim_pruner import AutoSlimPruner
from .channel_pruner import ChannelPruner
from .export import export_pruned_model, parameter_slices, slice_tensor
from .flops import count_flops_params
from .graph.channel_space import ChannelSpace
from .graph.graph_tracer import GraphTracer
from .sampling.subnet_io import check_subnet, load_subnet, save_subnet

__all__ = ['ChannelPruner', 'AutoSlimPruner', 'ChannelSpace', 'GraphTracer',
           'export_pruned_model', 'count_flops_params', 'save_subnet',
           'load_subnet', 'check_subnet', 'parameter_slices', 'slice_tensor']
