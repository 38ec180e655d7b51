"""The structure a pruning algorithm's state dict carries: its subnet and
whether training moved to the physically pruned model; rebuilt before a
checkpoint's weights load."""
import copy

import torch

from ..compat.private_apis import non_persistent_buffer_names
from ..engine import move_optimizer_
from ..fusion import fold_bn
from ..pruners import slice_tensor


def drop_non_persistent(module, state, prefix, local_metadata):
    """mmcv's checkpoint writer keeps non-persistent buffers (for BN's
    sake); the pruner's mask buffers are rebuilt from ``pruned_keep``, so
    they stay out of checkpoints, which then load strictly."""
    for name, sub in module.named_modules(prefix=prefix.rstrip('.')):
        for buf in non_persistent_buffer_names(sub):
            state.pop(f'{name}.{buf}' if name else buf, None)


class PrunedStructureMixin:
    """Part of :class:`BasePruningAlgorithm`: the switch to the physically
    pruned model, export, and loading a checkpoint's structure. Needs
    ``pruner``, ``architecture``, the ``pruned_keep`` / ``pruned_exported``
    buffers, ``masks``, ``apply_subnet`` and ``NAME``."""

    def switch_to_pruned(self, optimizer=None) -> None:
        """Replace the masked model by its physically pruned copy (the
        Pruner's export) and move ``optimizer`` onto it, its state sliced
        to the kept channels. The full-width model stays with the Pruner,
        on the CPU, for counting and as the latency baseline. A wrapper
        (DDP) around this algorithm must be rebuilt afterwards
        (``core.rewrap_model``)."""
        if self.is_exported:
            return
        old = self.architecture.model
        param = next(old.parameters())
        small = self.pruner.export().to(param.device)
        small.train(old.training)
        slices = self.pruner.parameter_slices()

        def cut(name, t):
            s = slices.get(name)
            return t if s is None else slice_tensor(t, s).clone()

        move_optimizer_(optimizer, old, small, cut)
        self.architecture.model = small
        old.cpu()
        self.masks = []
        self.pruned_exported.fill_(True)

    def export_model(self) -> torch.nn.Module:
        """The physically pruned classifier, an ordinary module on CPU."""
        if self.is_exported:
            return copy.deepcopy(self.architecture.model).cpu()
        return self.pruner.export().cpu()

    def deploy_model(self, exported: torch.nn.Module):
        """``(deploy model, folded pairs)``: ``exported`` with every
        BatchNorm that directly follows a conv / linear folded into it (the
        hook saves and times it beside the exported model)."""
        return fold_bn(exported, self.pruner.input_shape)

    def saved_structure(self, state_dict):
        """``(pruned_keep, pruned_exported)`` of this algorithm's (top
        level) ``state_dict``: the subnet it holds, and whether it holds
        the physically pruned model; ``(None, False)`` for a state dict
        without a subnet of this model (a classifier's, another model's).
        """
        state = {k[7:] if k.startswith('module.') else k: v
                 for k, v in state_dict.items()}
        keep = state.get('pruned_keep')
        if keep is None or keep.numel() != self.pruned_keep.numel():
            return None, False
        return keep.bool().cpu(), bool(state.get('pruned_exported', False))

    def load_structure(self, state_dict) -> None:
        """Give this algorithm the structure a checkpoint's ``state_dict``
        was saved from (its subnet; the physically pruned model if it was
        exported), so that its weights then load strictly. The tools call
        it before an optimizer or DDP wrapper is built."""
        keep, exported = self.saved_structure(state_dict)
        if keep is None:
            return
        if self.is_exported:
            if exported and torch.equal(keep, self.pruned_keep.cpu()):
                return
            raise RuntimeError(f'{self.NAME}: cannot load a checkpoint of '
                               'another subnet into a physically pruned '
                               'model')
        self.apply_subnet(self.pruner.subnet_from_keep(keep))
        if exported:
            self.switch_to_pruned()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        # runs before the children load: the structure is set first
        own = {k[len(prefix):]: v for k, v in state_dict.items()
               if k.startswith(prefix) and '.' not in k[len(prefix):]}
        self.load_structure(own)
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)
        if prefix + 'pruned_exported' in missing_keys:  # older checkpoints
            missing_keys.remove(prefix + 'pruned_exported')
