"""The contract of a layer kind: everything the pruner needs to know about
one kind of layer, from the trace to the exported model.

A handler is registered in ``LAYER_HANDLERS`` (``mmrazor_ext/registry.py``)
and found by :func:`.registry.handler_for`; the tracer, the channel spaces,
the masks, the parameter masks, ``parameter_slices`` (which FLOPs and
optimizer state follow) and export call it and nothing else about the
kind. The default methods below are those of a layer masked by buffers:
``out_mask`` on its output and, with ``masks_input``, ``in_mask`` on its
input (non-persistent buffers plus plain-function hooks, so deep copies
keep working masks and checkpoints leave them out).

FLOPs: the counter (``graph/op_counter.py``) sees the ATen ops a layer's
forward runs, whatever its kind; under a subnet an op whose weight is a
parameter scales with the entries :meth:`LayerHandler.parameter_slices`
keeps, so a handler's slices are its FLOPs too.
"""
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from .layer_record import LayerRecord, Traced, prunable

MASK_FLAG = '_channel_pruner_masks'
MASK_BUFFERS = ('in_mask', 'out_mask')

ParamMasks = List[Tuple[nn.Parameter, Tensor]]
Slices = Dict[str, tuple]


def mask_input(module, args):
    """Forward pre-hook: the input times ``in_mask``."""
    return (args[0] * module.in_mask, ) + tuple(args[1:])


def mask_output(module, args, out):
    """Forward hook: the output times ``out_mask``."""
    return out * module.out_mask


def drop_masks(module, state, prefix, local_metadata):
    """State-dict hook: the mask buffers never reach a state dict."""
    for name in MASK_BUFFERS:
        state.pop(prefix + name, None)


def new_param(old: Optional[nn.Parameter], data: Tensor
              ) -> Optional[nn.Parameter]:
    """A parameter holding ``data``, trainable as ``old`` was."""
    if old is None:
        return None
    return nn.Parameter(data.contiguous(), requires_grad=old.requires_grad)


def take(t: Tensor, k: Tensor, dim: int = 0) -> Tensor:
    """Entries of ``t`` along ``dim`` where bool ``k`` is set (a copy)."""
    return t.index_select(dim, k.nonzero().flatten().to(t.device))


def along(k: Tensor, dim: int, ndim: int) -> Tensor:
    """Bool ``k`` as a 0/1 float tensor of ``ndim`` dims along ``dim``."""
    shape = [1] * ndim
    shape[dim] = k.numel()
    return k.float().view(shape)


def named_modules(model: nn.Module) -> Dict[str, nn.Module]:
    """``{name: module}`` of every module of ``model``, under every name
    it has (looked up once per pass over the layers)."""
    return dict(model.named_modules(remove_duplicate=False))


def indices(k: Optional[Tensor]) -> Optional[Tensor]:
    """Kept indices of bool ``k`` (None stays None)."""
    return None if k is None else k.nonzero().flatten()


class LayerHandler:
    """One layer kind (override what differs from a buffer-masked layer).

    Attributes:
        kind: the ``LayerRecord.kind`` of this kind's records.
        masks_input: a consumer: the layer reads channels through a
            weight, gets an ``in_mask`` and is listed as a consumer of
            the spaces it reads (unless tied).
        produces: the layer can create channels (a model with no such
            layer has nothing to prune).
        feature_norm: a norm right after a space's first producer whose
            output is the space's feature layer (BatchNorm).
        compared: the export check compares the layer's masked input and
            output (on the kept channels) with the exported layer's, to
            find where an export first differs.
        names_module: ``rec.name`` is a module of the model (a parameter
            for ``'param'`` records).
    """
    kind = ''
    masks_input = False
    produces = False
    feature_norm = False
    compared = False
    names_module = True
    #: the forward hooks of :meth:`attach_masks`, removed by ``detach``
    mask_hooks: Tuple = (mask_input, mask_output)

    # ------------------------------------------------------ recognition
    def matches(self, module: nn.Module) -> bool:
        """Whether this handler knows ``module`` as a whole (its class,
        and the stock forward of that class)."""
        return False

    def new_record(self, name: str, module: nn.Module) -> LayerRecord:
        """The record of ``module`` when the trace first meets it."""
        return LayerRecord(name=name, kind=self.kind)

    def output(self, out):
        """The tensor carrying the channels among the module's outputs."""
        return out

    def owner(self, modules: Dict[str, nn.Module],
              rec: LayerRecord) -> nn.Module:
        """The module the methods below act on, from ``{name: module}``
        of the model (:func:`named_modules`)."""
        return modules[rec.name]

    # ------------------------------------------------------ the trace
    def trace(self, res, rec: LayerRecord, module: nn.Module,
              v: Optional[Traced], in_shape, out_shape) -> Optional[Traced]:
        """Channels out of one call of the layer, from the channels ``v``
        of its input (None: untraced), joining elements in ``res.union``
        where the layer ties them; None when its output carries no
        prunable channel."""
        raise NotImplementedError

    @staticmethod
    def read_input(res, rec: LayerRecord, v: Optional[Traced],
                   dim: Optional[int], drop: bool = True
                   ) -> Optional[Traced]:
        """Note the input channels ``v`` of a call: blocked where they are
        not on dim ``dim`` (None: any dim; ``drop``: the layer then sees
        no traced channel), joined with an earlier call's."""
        if v is not None and dim is not None and v.dim != dim:
            res.union.block(v.ids, f'{rec.name} sees the channels on '
                            'another dim')
            if drop:
                return None
        if v is not None:
            if rec.in_ids is not None and rec.in_ids.numel() == \
                    v.ids.numel():
                res.union.union_pairs(rec.in_ids, v.ids)  # called twice
            rec.in_ids = v.ids
        return v

    @staticmethod
    def produce(res, rec: LayerRecord, dim: int) -> Optional[Traced]:
        """New channel elements for the layer's outputs (once, on its
        first call), along dim ``dim``."""
        if rec.out_ids is None:
            rec.out_ids = res.union.new(rec.out_channels)
            rec.produces = True
        if rec.out_channels == 1:
            res.union.block(rec.out_ids, 'single channel')
            return None
        return Traced(dim, rec.out_ids)

    def channel_dim(self, rec: LayerRecord, ndim: int) -> int:
        """The channel dim of the layer's input / output tensors of
        ``ndim`` dims."""
        return rec.chan_dim

    # ------------------------------------------------------ spaces
    def space_role(self, rec: LayerRecord) -> Optional[str]:
        """The ``ChannelSpace`` list naming this layer among the spaces
        its outputs carry: ``'producers'``, ``'passthrough'``,
        ``'norms'``, ``'params'`` or None."""
        if rec.tied:
            return 'passthrough'
        return 'producers' if rec.produces else None

    def consumes(self, rec: LayerRecord) -> bool:
        """Whether the layer is a consumer of the spaces it reads."""
        return self.masks_input and not rec.tied

    # ------------------------------------------------------ masks
    def mask_shape(self, rec: LayerRecord, n: int) -> tuple:
        """Shape of a mask of ``n`` channels broadcasting over the
        layer's output."""
        shape = [1] * max(2, rec.out_ndim)
        shape[rec.chan_dim] = n
        return tuple(shape)

    def output_hook(self, module: nn.Module, rec: LayerRecord):
        """The forward hook masking the output."""
        return mask_output

    def attach_masks(self, module: nn.Module, rec: LayerRecord) -> None:
        """Mask buffers (all ones) and, where channels can be pruned, the
        hooks applying them. The masks then keep every channel, as
        :meth:`set_masks` of the unpruned subnet would leave them (the
        pruner does not write them again)."""
        if getattr(module, MASK_FLAG, False):
            return
        w = getattr(module, 'weight', None)
        opts = dict(dtype=w.dtype, device=w.device) if w is not None else {}
        if self.masks_input:
            module.register_buffer('in_mask', torch.ones(self.mask_shape(
                rec, rec.in_channels), **opts), persistent=False)
        module.register_buffer('out_mask', torch.ones(self.mask_shape(
            rec, rec.out_channels), **opts), persistent=False)
        setattr(module, MASK_FLAG, True)
        module.register_state_dict_post_hook(drop_masks)
        if self.masks_input and prunable(rec.in_pos):
            module.register_forward_pre_hook(mask_input)
        if prunable(rec.out_pos):
            module.register_forward_hook(self.output_hook(module, rec))

    def set_masks(self, module: nn.Module, rec: LayerRecord,
                  sides: Tuple[Optional[Tensor], Optional[Tensor]]) -> None:
        """Write the masks of ``sides``: the kept outputs and inputs
        (bool per position of ``rec.out_pos`` / ``rec.in_pos``, None
        without positions; ``layer_record.kept_sides``)."""
        for name, k in zip(('out_mask', 'in_mask'), sides):
            buf = getattr(module, name, None)
            if buf is None or k is None or buf.numel() != k.numel():
                continue
            buf.copy_(k.view(buf.shape))

    def detach_masks(self, module: nn.Module) -> None:
        """Undo :meth:`attach_masks` beyond the hooks and buffers."""

    # ------------------------------------------------------ parameters
    def param_masks(self, module: nn.Module, rec: LayerRecord,
                    ko: Optional[Tensor], ki: Optional[Tensor]
                    ) -> ParamMasks:
        """``(parameter, 0/1 mask)`` of the layer's parameters touching a
        pruned channel (``ko`` / ``ki``: kept outputs / inputs, None where
        nothing is pruned)."""
        return []

    def parameter_slices(self, rec: LayerRecord, ko: Optional[Tensor],
                         ki: Optional[Tensor]) -> Slices:
        """``{parameter name: (kept indices along dim 0 or None, along dim
        1 or None, ...)}`` of the parameters export slices."""
        return {}

    def prune_(self, module: nn.Module, rec: LayerRecord,
               ko: Optional[Tensor], ki: Optional[Tensor]) -> None:
        """Slice the layer in place to the kept channels (export)."""
