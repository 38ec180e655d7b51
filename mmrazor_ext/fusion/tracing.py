"""One traced forward pass: which recognised layer (conv / linear / norm)
consumed which autograd value, and who else consumed it.

Fusion decides from this graph, never from module names: a BatchNorm
folds into the conv whose output it alone reads; a block's FLOPs are the
FLOPs of the layer calls inside it.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch import nn

from ..adapters import trace_forward
from ..pruners.handlers import handler_for


def _key(t: torch.Tensor):
    return (t.grad_fn, t.output_nr) if t.grad_fn is not None else id(t)


@dataclass
class LayerCall:
    """One call of a recognised layer in the traced forward pass."""
    name: str
    kind: str  # 'conv', 'linear', 'norm', 'group_norm'
    in_key: object
    out_key: object
    in_shape: Tuple[int, ...]
    out_shape: Tuple[int, ...]
    flops: int = 0  # multiply-accumulates per sample (flops.py's formula)


@dataclass
class Trace:
    """Layer calls in forward order and the consumers of every value."""
    calls: List[LayerCall] = field(default_factory=list)
    # (grad_fn, output_nr) -> number of autograd nodes reading it
    consumers: Dict[object, int] = field(default_factory=dict)
    module_calls: Dict[str, int] = field(default_factory=dict)

    def flops(self, prefix: Optional[str] = None) -> int:
        """FLOPs of every call (under module ``prefix`` when given)."""
        return sum(c.flops for c in self.calls
                   if prefix is None or c.name == prefix or
                   c.name.startswith(prefix + '.'))


def _flops(module, kind, out_shape) -> int:
    n = 1
    for s in out_shape[1:]:
        n *= int(s)
    if kind == 'conv':
        k = 1
        for s in module.kernel_size:
            k *= int(s)
        return n * module.in_channels // module.groups * k
    if kind == 'linear':
        return n * module.in_features
    return n


def trace_layers(model: nn.Module, input_shape, forward_fn: Optional[
        Callable] = None, batch_size: int = 2) -> Trace:
    """Run ``model`` once in eval mode on a random ``(batch, *input_shape)``
    input and record the recognised layer calls and value consumers.

    Args:
        model: A classifier the adapter knows, or any image -> logits
            module.
        input_shape: ``(C, H, W)`` of one sample.
        forward_fn: ``(model, x) -> outputs``; default
            :func:`mmrazor_ext.adapters.trace_forward`.
        batch_size: Dummy batch size.
    """
    forward_fn = forward_fn or trace_forward
    names = {m: n for n, m in model.named_modules()}
    trace, pending, handles = Trace(), {}, []

    def pre(module, args):
        x = args[0] if args else None
        pending[module] = x if isinstance(x, torch.Tensor) else None

    def post(module, args, out):
        x = pending.pop(module, None)
        if not isinstance(out, torch.Tensor) or x is None:
            return
        name, kind = names[module], handler_for(module).kind
        if '.bias_path.' in name:  # a merged block's cached bias
            return
        trace.module_calls[name] = trace.module_calls.get(name, 0) + 1
        trace.calls.append(LayerCall(
            name, kind, _key(x), _key(out), tuple(x.shape),
            tuple(out.shape), _flops(module, kind, tuple(out.shape))))

    for m in names:
        if handler_for(m) is not None:
            handles.append(m.register_forward_pre_hook(pre))
            handles.append(m.register_forward_hook(post))
    param = next(iter(model.parameters()), torch.empty(0))
    x = torch.randn(max(2, batch_size), *input_shape, device=param.device,
                    dtype=param.dtype if param.is_floating_point() else None,
                    requires_grad=True)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            out = forward_fn(model, x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    outs = out if isinstance(out, (list, tuple)) else [out]
    trace.consumers = _count_consumers(
        [t.grad_fn for t in outs
         if isinstance(t, torch.Tensor) and t.grad_fn is not None])
    return trace


def _count_consumers(roots) -> Dict[object, int]:
    counts, seen, stack = defaultdict(int), set(roots), list(roots)
    while stack:
        node = stack.pop()
        for fn, nr in node.next_functions:
            if fn is None:
                continue
            counts[(fn, nr)] += 1
            if fn not in seen:
                seen.add(fn)
                stack.append(fn)
    return dict(counts)
