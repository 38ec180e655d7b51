"""Fusion: layer-level compression on a model's traced graph: BN folding,
block removal, layer merging (DepthShrinker)."""
from .block_graph import BlockInfo, find_blocks
from .block_removal import (ShortcutBlock, candidates, check_target,
                            choose_blocks, removal_order, remove_blocks)
from .bn_folding import find_conv_bn_pairs, fold_bn
from .fusion_hook import FusionHook
from .fusion_state import drop_missing_params_, fusion_structure
from .layer_merging import (ChainInfo, linearize, merge_block,
                            merge_candidates, merge_model)
from .linear_chain import LinearChainBlock, MergedConvBlock
from .tracing import Trace, trace_layers

__all__ = ['BlockInfo', 'find_blocks', 'ShortcutBlock', 'candidates',
           'check_target',
           'choose_blocks', 'remove_blocks', 'removal_order',
           'find_conv_bn_pairs', 'fold_bn', 'FusionHook', 'ChainInfo',
           'drop_missing_params_', 'fusion_structure', 'linearize',
           'merge_block', 'merge_candidates', 'merge_model',
           'LinearChainBlock', 'MergedConvBlock', 'Trace', 'trace_layers']
