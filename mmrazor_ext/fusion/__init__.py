"""Fusion: layer-level compression on a model's traced graph (the
pruner's, ``pruners/graph/``): BN folding, block removal, layer merging
(DepthShrinker)."""
from ..pruners.graph.blocks import BlockInfo, find_blocks
from ..pruners.graph.chains import ChainInfo, find_chains
from ..pruners.graph.conv_bn import find_conv_bn_pairs
from ..pruners.graph.graph_tracer import trace_graph
from .block_removal import (ShortcutBlock, candidates, check_target,
                            choose_blocks, removal_order, remove_blocks)
from .bn_folding import fold_bn
from .fusion_hook import FusionHook
from .fusion_state import drop_missing_params_, fusion_structure
from .layer_merging import linearize, merge_block, merge_model
from .linear_chain import LinearChainBlock, MergedConvBlock

__all__ = ['BlockInfo', 'find_blocks', 'ShortcutBlock', 'candidates',
           'check_target', 'choose_blocks', 'remove_blocks', 'removal_order',
           'find_conv_bn_pairs', 'fold_bn', 'FusionHook', 'ChainInfo',
           'drop_missing_params_', 'fusion_structure', 'linearize',
           'merge_block', 'find_chains', 'merge_model', 'trace_graph',
           'LinearChainBlock', 'MergedConvBlock']
