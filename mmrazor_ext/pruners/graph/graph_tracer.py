"""Trace one forward pass into channel elements and per-layer records.

The model runs once on a dummy input that requires grad. Forward hooks on
the layers a handler knows (``pruners/handlers/``) note which autograd
values go in and come out of each layer; the autograd graph of the outputs
is then walked in forward order. Known layers are traced by their handler,
every other op by probing its vector-Jacobian product (``channel_mapper``). Ops
that cannot be followed block the channels touching them, with a warning
naming the op; they never stop the trace.
"""
import warnings
from typing import Callable, Dict, List, Optional

import torch
from torch import nn
from torch.nn.modules.module import (register_module_forward_hook,
                                     register_module_forward_pre_hook)

from ...adapters import trace_forward
from ...compat.private_apis import input_metadata
from ...utils.tensor_compare import output_tensors
from ..handlers import LayerRecord, Traced, handler_for
from .channel_mapper import UnknownOp
from .model_graph import ModelGraph, ModuleCall, ValueIds, build_model_graph
from .op_counter import OpCounter, resolve_dims, tensor_key
from .param_channels import buffers_in_probe
from .probe_cache import ProbeCache
from .trace_input import (CpuProbe, dummy_input, traced_in_float32)
from .union_find import INPUT, ElementUnion

_key = tensor_key


class TraceResult:
    """Elements, layer records, counted ops and warnings of one trace.

    ``ops`` / ``used_params`` / ``batch``: the matrix ops, the parameters
    read (``{name: shape}``) and the batch size they were counted at (see
    ``flops.py``); ``graph``: the module calls, sums and ops as plain data
    (``model_graph.py``); ``input``: the traced input (for the export
    check).
    """

    def __init__(self):
        self.union = ElementUnion()
        self.layers: Dict[str, LayerRecord] = {}  # name -> record
        self.warnings: List[str] = []
        self.ops: list = []
        self.used_params: Dict[str, tuple] = {}
        self.batch = 1
        self.graph = ModelGraph()
        self.input = None


class GraphTracer:
    """Traces a model on a dummy input of ``(batch, *input_shape)``.

    The input takes the model's dtype and device (see ``trace_input.py``).

    Args:
        input_shape: ``(C, H, W)`` of one input sample.
        batch_size: at least 2, so the batch dim is never mistaken for a
            channel dim.
        forward_fn: ``(model, x) -> outputs``; defaults to
            :func:`mmrazor_ext.adapters.trace_forward`. For models whose
            forward needs more than one image tensor: build the other
            inputs here; the traced channels start at ``x``'s dim 1.
        example_input: a tensor ``(N, C, ...)`` (or a callable returning
            one) used as ``x`` instead of a random ``input_shape`` batch.
    """

    def __init__(self, input_shape=(3, 224, 224), batch_size: int = 2,
                 forward_fn: Optional[Callable] = None, example_input=None):
        self.input_shape = tuple(input_shape)
        self.batch_size = max(2, batch_size)
        self.forward_fn = forward_fn or trace_forward
        self.example_input = example_input

    def trace(self, model: nn.Module, channels: bool = True) -> TraceResult:
        """Trace ``model``; without ``channels``, only its graph and
        counted ops (no channel probes, no records: for counting and for
        Fusion on any model)."""
        res = TraceResult()
        names = {m: n for n, m in model.named_modules()}
        known = {m: handler_for(m) for m in names}
        if channels and not any(h is not None and h.produces
                                for h in known.values()):
            raise ValueError(f'{type(model).__name__} has no Conv / Linear '
                             'layer: nothing to prune')
        calls = []  # (module, in_key, in_shape, out_key, out_shape)
        pending = {}
        counter = OpCounter(model)
        module_calls, entered = [], []  # every module's calls, the graph's

        def enter(module, args):  # every module's call (global hook)
            if module not in names or module is model:
                return
            x = args[0] if args else None
            entered.append((_key(x), tuple(x.shape)) if isinstance(
                x, torch.Tensor) else None)
            counter.scope.append(names[module])

        def leave(module, args, out):
            if module not in names or module is model:
                return
            counter.scope.pop()
            came = entered.pop()
            h = known[module]
            out = h.output(out) if h is not None else out
            if came is not None and isinstance(out, torch.Tensor):
                module_calls.append((names[module], came[0], came[1],
                                     _key(out), tuple(out.shape)))

        def pre_hook(module, args):
            x = args[0] if args else None
            pending[module] = (_key(x), tuple(x.shape)) if isinstance(
                x, torch.Tensor) else (None, None)

        def post_hook(module, args, out):
            out = known[module].output(out)
            if isinstance(out, torch.Tensor):
                calls.append((module, *pending.pop(module, (None, None)),
                              _key(out), tuple(out.shape)))

        handles = [register_module_forward_pre_hook(enter),
                   register_module_forward_hook(leave)]
        for m, k in known.items():
            if k is not None and channels:
                handles.append(m.register_forward_pre_hook(pre_hook))
                handles.append(m.register_forward_hook(post_hook))
        x = dummy_input(model, self.input_shape, self.batch_size,
                        self.example_input)
        was_training = model.training
        model.eval()
        try:
            with torch.enable_grad(), traced_in_float32(model), counter, \
                    buffers_in_probe(model, known):
                outs = output_tensors(self.forward_fn(model, x))
        except TypeError as e:
            raise ValueError(f'tracing {type(model).__name__} failed: its '
                             f'forward does not take one input tensor ({e})')
        except RuntimeError as e:
            raise ValueError(f'tracing {type(model).__name__} failed on a '
                             f'dummy input of shape {tuple(x.shape)}: {e}')
        finally:
            for h in handles:
                h.remove()
            model.train(was_training)
        outs = [t for t in outs if t.grad_fn is not None]
        if not outs:
            raise ValueError(f'{type(model).__name__} output does not depend '
                             'on its input through autograd')
        res.ops, res.used_params = counter.ops, counter.used
        res.batch = int(x.shape[0])
        res.input = x.detach()
        order = _forward_order([t.grad_fn for t in outs])
        ids = ValueIds()
        build_model_graph(order, [
            ModuleCall(n, ids(i), ids(o), si, so)
            for n, i, si, o, so in module_calls], ids, res.graph)
        if channels:
            self._propagate(res, x, outs, calls, names, known, order)
        else:
            resolve_dims(res.ops, {}, _dependent(order, x))
        g = res.graph
        g.ops, g.used, g.batch = res.ops, res.used_params, res.batch
        return res

    # ------------------------------------------------------------------
    def _propagate(self, res, x, outs, calls, names, known, order):
        self._probes = ProbeCache()
        by_out = {}
        for module, in_key, in_shape, out_key, out_shape in calls:
            by_out.setdefault(out_key, []).append(
                (module, in_key, in_shape, out_shape))
        internal = _internal_nodes(by_out, calls)
        values = {id(x): Traced(1, torch.full((x.shape[1], ), INPUT))}
        union = res.union
        for node in order:
            if node in internal:
                continue
            var = getattr(node, 'variable', None)
            if var is not None:
                if var is x:
                    values[(node, 0)] = values[id(x)]
                continue
            for nr in range(len(input_metadata(node))):
                for module, in_key, in_shape, out_shape in by_out.get(
                        (node, nr), ()):
                    values[(node, nr)] = self._layer(
                        res, module, names[module], known[module],
                        values.get(in_key), in_key, in_shape,
                        (node, nr), out_shape)
            if any((node, nr) in by_out
                   for nr in range(len(input_metadata(node)))):
                continue
            self._generic(res, node, values)
        for t in outs:
            v = values.get(_key(t))
            if v is not None:
                union.block(v.ids, 'network output (classifier outputs are '
                            'never pruned)')
        resolve_dims(res.ops, values, _dependent(order, x))

    def _generic(self, res, node, values):
        edges = node.next_functions
        inputs = [values.get((fn, nr)) if fn is not None else None
                  for fn, nr in edges]
        if not any(v is not None for v in inputs):
            return
        try:
            if len(input_metadata(node)) != 1:
                raise UnknownOp('splits its input into several outputs')
            shapes = [_shape_of(fn, nr) for fn, nr in edges]
            out_shape = tuple(input_metadata(node)[0].shape)
            probe = node if input_metadata(node)[0].device.type == 'cpu' \
                else CpuProbe(node)
            v = self._probes.map_node(probe, node, inputs, shapes,
                                      out_shape, res.union)
        except (UnknownOp, RuntimeError, TypeError) as e:
            msg = (f'op {node.name()} ({e}): the channel spaces touching it '
                   'are unprunable')
            res.warnings.append(msg)
            warnings.warn(msg)
            for u in inputs:
                if u is not None:
                    res.union.block(u.ids, f'op {node.name()}')
            return
        if v.ids.numel() == 1:
            res.union.block(v.ids, 'single channel')
            v = None
        values[(node, 0)] = v

    def _layer(self, res, module, name, handler, v, in_key, in_shape,
               out_key, out_shape):
        rec = res.layers.get(name)
        if rec is None:
            rec = res.layers[name] = handler.new_record(name, module)
            rec.in_key, rec.out_key = in_key, out_key
            rec.out_ndim = len(out_shape)
        return handler.trace(res, rec, module, v, in_shape, out_shape)


def trace_graph(model: nn.Module, input_shape, forward_fn: Optional[
        Callable] = None, example_input=None) -> ModelGraph:
    """The graph and counted ops of one forward pass of ``model`` on a
    dummy ``(2, *input_shape)`` input (no channel analysis): for FLOPs of
    any model and Fusion's blocks, chains and conv-BN pairs."""
    return GraphTracer(input_shape, forward_fn=forward_fn,
                       example_input=example_input).trace(
                           model, channels=False).graph


def _shape_of(fn, nr):
    if fn is None:
        return None
    var = getattr(fn, 'variable', None)
    if var is not None:
        return tuple(var.shape)
    return tuple(input_metadata(fn)[nr].shape)


def _dependent(order, x) -> set:
    """The nodes of ``order`` (inputs first) that depend on ``x``."""
    dep = set()
    for node in order:
        if getattr(node, 'variable', None) is x or any(
                fn in dep for fn, _ in node.next_functions):
            dep.add(node)
    return dep


def _forward_order(roots) -> list:
    """Autograd nodes reachable from ``roots``, inputs before users."""
    order, seen = [], set()
    for root in roots:
        if root is None or root in seen:
            continue
        stack = [(root, iter(root.next_functions))]
        seen.add(root)
        while stack:
            node, it = stack[-1]
            for fn, _ in it:
                if fn is not None and fn not in seen:
                    seen.add(fn)
                    stack.append((fn, iter(fn.next_functions)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def _internal_nodes(by_out, calls) -> set:
    """Nodes inside recognised layers (between their input and output)."""
    inputs = {c[1] for c in calls}
    internal = set()
    for (node, _nr) in [k for k in by_out if isinstance(k, tuple)]:
        stack = [fn for fn, _ in node.next_functions if fn is not None]
        while stack:
            fn = stack.pop()
            if fn in internal or hasattr(fn, 'variable') or any(
                    (fn, i) in inputs for i in range(len(input_metadata(fn)))):
                continue
            internal.add(fn)
            stack.extend(f for f, _ in fn.next_functions if f is not None)
    return internal
