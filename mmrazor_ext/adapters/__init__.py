"""What the Pruner and Metric layers need to know about a classifier
framework, in one place per framework (today mmcls only)."""
from .mmcls_adapter import (build_loader, classification_loss, inference,
                            residual_blocks, scoped_architecture,
                            split_batch, trace_forward)

__all__ = ['trace_forward', 'inference', 'classification_loss',
           'split_batch', 'residual_blocks', 'build_loader',
           'scoped_architecture']
