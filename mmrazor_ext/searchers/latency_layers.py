"""The layers a latency table prices: every 2-d convolution and linear
layer of the traced model, with the geometry that sets its cost (kernel,
stride, padding, dilation, groups, input size) and, per candidate, its
input and output widths. Each (geometry, in width, out width) is one
entry, measured once on a one-layer model: an ONNX graph of that one node
(ONNX Runtime) or the PyTorch layer itself (eager).

Norms, activations, sums and pooling are not entries: ONNX Runtime folds
BatchNorm into the convolution and fuses activations and residual sums
into it; what remains is in the table's constant.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from ..pruners.handlers.layer_record import kept


@dataclass
class LayerSpec:
    """One priced layer: its name, geometry and channel positions."""
    name: str
    kind: str  # 'conv' or 'linear'
    geometry: Tuple  # conv: (k_h, k_w, s_h, s_w, p_h, p_w, d_h, d_w, H, W)
    in_channels: int
    out_channels: int
    groups: int  # 1, the conv's groups, or -1: depthwise (groups = width)
    in_pos: Optional[Tensor]
    out_pos: Optional[Tensor]

    def widths(self, keep: Tensor) -> Tuple[int, int]:
        """``(in, out)`` channels kept under the keep vector ``keep``."""
        ci = self.in_channels if self.in_pos is None else int(
            kept(self.in_pos, keep).sum())
        co = self.out_channels if self.out_pos is None else int(
            kept(self.out_pos, keep).sum())
        if self.groups == -1:  # depthwise: both sides are one width
            ci = co = min(ci, co)
        return ci, co

    def key(self, ci: int, co: int) -> str:
        """The table entry of this layer at widths ``(ci, co)``: layers of
        the same geometry and widths share it."""
        if self.kind == 'linear':
            return f'linear {ci}->{co}'
        kh, kw, sh, sw, ph, pw, dh, dw, h, w = self.geometry
        g = 'dw' if self.groups == -1 else f'g{self.groups}'
        return (f'conv {kh}x{kw} s{sh}x{sw} p{ph}x{pw} d{dh}x{dw} {g} '
                f'{h}x{w} {ci}->{co}')


def layer_specs(pruner, model: Optional[nn.Module] = None
                ) -> Tuple[List[LayerSpec], List[str]]:
    """The priced layers of a prepared pruner's model, in forward order,
    and the names of layers it runs that the table does not price (3-d
    convolutions, attention: their cost stays in the constant)."""
    model = model or pruner.model
    modules = dict(model.named_modules())
    order = {c.name: i for i, c in enumerate(pruner.graph.calls)}
    specs, other = [], []
    for rec in pruner.layers.values():
        mod = modules.get(rec.name)
        calls = pruner.graph.calls_of(rec.name)
        if rec.kind not in ('conv', 'linear') or mod is None or not calls:
            if rec.kind in ('conv', 'linear', 'attention'):
                other.append(rec.name)
            continue
        shape = tuple(calls[0].in_shape)
        if rec.kind == 'conv':
            if not isinstance(mod, nn.Conv2d) or len(shape) != 4 or \
                    not isinstance(mod.padding, tuple):
                other.append(rec.name)
                continue
            geometry = (*mod.kernel_size, *mod.stride, *mod.padding,
                        *mod.dilation, shape[2], shape[3])
            groups = -1 if rec.tied else mod.groups
        else:
            geometry, groups = (), 1
        specs.append(LayerSpec(rec.name, rec.kind, geometry,
                               rec.in_channels, rec.out_channels, groups,
                               rec.in_pos, rec.out_pos))
    specs.sort(key=lambda s: order.get(s.name, len(order)))
    return specs, other


def live(specs: Sequence[LayerSpec], removed: Sequence[str]
         ) -> List[LayerSpec]:
    """The layers still run when the blocks ``removed`` are gone."""
    if not removed:
        return list(specs)
    return [s for s in specs if not any(
        s.name == b or s.name.startswith(b + '.') for b in removed)]


def entry_keys(specs: Sequence[LayerSpec], keep: Tensor,
               removed: Sequence[str] = ()) -> List[str]:
    """The table entries of a candidate (keep vector, blocks removed)."""
    return [s.key(*s.widths(keep)) for s in live(specs, removed)]


def parse_key(key: str) -> dict:
    """The layer of an entry key (inverse of :meth:`LayerSpec.key`)."""
    parts = key.split()
    ci, co = (int(v) for v in parts[-1].split('->'))
    if parts[0] == 'linear':
        return dict(kind='linear', ci=ci, co=co)
    kh, kw = (int(v) for v in parts[1].split('x'))
    sh, sw = (int(v) for v in parts[2][1:].split('x'))
    ph, pw = (int(v) for v in parts[3][1:].split('x'))
    dh, dw = (int(v) for v in parts[4][1:].split('x'))
    h, w = (int(v) for v in parts[6].split('x'))
    groups = ci if parts[5] == 'dw' else int(parts[5][1:])
    return dict(kind='conv', ci=ci, co=co, kernel=(kh, kw), stride=(sh, sw),
                padding=(ph, pw), dilation=(dh, dw), size=(h, w),
                groups=groups)


def input_shape_of(key: str, batch: int) -> Tuple[int, ...]:
    p = parse_key(key)
    if p['kind'] == 'linear':
        return (batch, p['ci'])
    return (batch, p['ci'], *p['size'])


def torch_layer(key: str) -> nn.Module:
    """The entry's layer as a PyTorch module (random weights, eval)."""
    p = parse_key(key)
    if p['kind'] == 'linear':
        return nn.Linear(p['ci'], p['co']).eval()
    return nn.Conv2d(p['ci'], p['co'], p['kernel'], p['stride'],
                     p['padding'], p['dilation'], p['groups']).eval()


def onnx_layer(key: str, path: str, batch: int, opset: int = 17) -> str:
    """Write the entry's layer as a one-node ONNX graph (``Conv`` or
    ``Gemm`` with a bias, as PyTorch's exporter writes them); returns
    ``path``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    p = parse_key(key)
    rng = np.random.RandomState(0)
    shape = input_shape_of(key, batch)
    if p['kind'] == 'linear':
        w = rng.randn(p['co'], p['ci']).astype(np.float32) * 0.1
        node = helper.make_node('Gemm', ['x', 'w', 'b'], ['y'], transB=1)
        out = [batch, p['co']]
    else:
        (kh, kw), (sh, sw) = p['kernel'], p['stride']
        (ph, pw), (dh, dw), (h, w_) = p['padding'], p['dilation'], p['size']
        w = rng.randn(p['co'], p['ci'] // p['groups'], kh, kw).astype(
            np.float32) * 0.1
        node = helper.make_node(
            'Conv', ['x', 'w', 'b'], ['y'], kernel_shape=[kh, kw],
            strides=[sh, sw], pads=[ph, pw, ph, pw], dilations=[dh, dw],
            group=p['groups'])
        out = [batch, p['co'], (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1,
               (w_ + 2 * pw - dw * (kw - 1) - 1) // sw + 1]
    b = rng.randn(p['co']).astype(np.float32) * 0.1
    graph = helper.make_graph(
        [node], osp.basename(path),
        [helper.make_tensor_value_info('x', TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info('y', TensorProto.FLOAT, out)],
        [numpy_helper.from_array(w, 'w'), numpy_helper.from_array(b, 'b')])
    onnx.save(helper.make_model(
        graph, opset_imports=[helper.make_opsetid('', opset)]), path)
    return path


def chain_onnx(path: str, length: int, channels: int = 16, size: int = 2,
               opset: int = 17) -> str:
    """``length`` 1x1 convolutions in a row on a tiny tensor: the graph
    that measures what profiling adds to each node's time."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.RandomState(0)
    inits, nodes, prev = [], [], 'x'
    for i in range(length):
        inits += [numpy_helper.from_array(rng.randn(
            channels, channels, 1, 1).astype(np.float32) * 0.1, f'w{i}'),
            numpy_helper.from_array(np.zeros(channels, np.float32),
                                    f'b{i}')]
        out = 'y' if i == length - 1 else f'v{i}'
        nodes.append(helper.make_node('Conv', [prev, f'w{i}', f'b{i}'],
                                      [out], kernel_shape=[1, 1]))
        prev = out
    shape = [1, channels, size, size]
    graph = helper.make_graph(
        nodes, 'chain', [helper.make_tensor_value_info(
            'x', TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info('y', TensorProto.FLOAT, shape)],
        inits)
    onnx.save(helper.make_model(
        graph, opset_imports=[helper.make_opsetid('', opset)]), path)
    return path


def needed_keys(specs: Sequence[LayerSpec], space_widths: Dict[str, list],
                spaces) -> List[str]:
    """Every entry a candidate of the search can need: each layer at every
    combination of the widths its input and output spaces may take
    (``space_widths``: ``{space: sorted distinct widths}``; ``spaces``:
    the pruner's prunable spaces). A side whose channels are not exactly
    one whole space keeps its full width here (a candidate that differs
    there is priced by scaling, see ``LatencyTable``)."""
    by_unit = {}
    for sp in spaces:
        by_unit[sp.name] = (sp.offset, sp.num_channels)

    def side(pos, full):
        if pos is None or not bool((pos >= 0).any()):
            return [full]
        prunable = pos[pos >= 0]
        fixed = int((pos < 0).sum())
        for name, (off, n) in by_unit.items():
            if prunable.numel() == n and bool(
                    (prunable.sort().values ==
                     torch.arange(off, off + n)).all()):
                return [fixed + w for w in space_widths[name]]
        return [full]

    keys = []
    for s in specs:
        ins = side(s.in_pos, s.in_channels)
        outs = side(s.out_pos, s.out_channels)
        if s.groups == -1:
            pairs = [(w, w) for w in sorted(set(ins) | set(outs))]
        else:
            pairs = [(a, b) for a in ins for b in outs]
        keys += [s.key(a, b) for a, b in pairs]
    return list(dict.fromkeys(keys))
