"""What every algorithm shares: loaders, top-k on N batches, BatchNorm
recalibration with snapshot/restore, CPU latency, the optimizer's move to
a pruned model, the report and the runner hook."""
from .bn_recalibration import (bn_restore, bn_snapshot, preserved_bn_stats,
                               recalibrate_bn)
from .evaluation import evaluate
from .latency import compare_latency, cpu_latency, machine_load
from .loaders import build_loader
from .optimizer_state import move_optimizer_
from .pruning_hook import OneShotHook, PruningHook
from .report import DEFAULT_STAGES, format_table
from .test_loops import multi_process_test, single_device_test

__all__ = ['bn_restore', 'bn_snapshot', 'preserved_bn_stats',
           'recalibrate_bn', 'evaluate', 'cpu_latency', 'compare_latency',
           'machine_load', 'build_loader',
           'move_optimizer_', 'PruningHook', 'OneShotHook', 'DEFAULT_STAGES',
           'format_table', 'multi_process_test', 'single_device_test']
