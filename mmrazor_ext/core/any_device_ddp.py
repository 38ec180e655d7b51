import inspect

import torch
from mmcv.parallel import MODULE_WRAPPERS, scatter_kwargs
from torch.nn.parallel import DistributedDataParallel

from ..compat.private_apis import ddp_post_forward, ddp_pre_forward


@MODULE_WRAPPERS.register_module()
class AnyDeviceDistributedDataParallel(DistributedDataParallel):
    """DistributedDataParallel for mmcv runners, on GPUs and on CPU (gloo).

    mmcv 1.5's ``MMDistributedDataParallel`` only scatters DataContainers
    when ``device_ids`` is set (so it cannot run on CPU) and reaches for
    ``_sync_params``, which torch 2.x no longer has. This wrapper scatters
    the batch itself (to ``device_ids[0]`` or to CPU) and runs the module's
    ``train_step`` / ``val_step`` between DDP's own pre- and post-forward
    steps, so gradient bucketing, buffer broadcast and unused-parameter
    detection behave exactly as in ``forward``.

    Args:
        module (nn.Module): Model with ``train_step`` / ``val_step``.
        **kwargs: Passed on to :class:`DistributedDataParallel`
            (leave ``device_ids`` unset on CPU).
    """

    def _scatter(self, inputs, kwargs):
        targets = list(self.device_ids) if self.device_ids else [-1]
        inputs, kwargs = scatter_kwargs(inputs, kwargs, targets[:1], self.dim)
        return (inputs[0] if inputs else ()), (kwargs[0] if kwargs else {})

    def _run_step(self, step, *inputs, **kwargs):
        inputs, kwargs = self._scatter(inputs, kwargs)
        inputs, kwargs = ddp_pre_forward(self, *inputs, **kwargs)
        output = getattr(self.module, step)(*inputs, **kwargs)
        return ddp_post_forward(self, output)

    def forward(self, *inputs, **kwargs):
        inputs, kwargs = self._scatter(inputs, kwargs)
        return super().forward(*inputs, **kwargs)

    def train_step(self, *inputs, **kwargs):
        return self._run_step('train_step', *inputs, **kwargs)

    def val_step(self, *inputs, **kwargs):
        with torch.no_grad():
            return self._run_step('val_step', *inputs, **kwargs)


def no_buffer_sync(sync: bool = False) -> dict:
    """DDP's keyword for whether buffers are broadcast from rank 0 at each
    forward: ``forward_sync_buffers`` since torch 2.13, which deprecates
    ``broadcast_buffers`` with a FutureWarning on every rank (buffers are
    then still synced once at construction, as the ranks start equal)."""
    params = inspect.signature(DistributedDataParallel.__init__).parameters
    key = 'forward_sync_buffers' if 'forward_sync_buffers' in params \
        else 'broadcast_buffers'
    return {key: sync}


def rewrap_model(wrapper):
    """A new wrapper of the same kind and settings around
    ``wrapper.module``, after the module's parameters were replaced (a
    pruned architecture): DDP registers its gradient hooks and buckets on
    the parameters it was built with. A collective under DDP (call it on
    every rank); data-parallel wrappers and bare modules are returned as
    they are."""
    if not isinstance(wrapper, DistributedDataParallel):
        return wrapper
    sync = getattr(wrapper, 'forward_sync_buffers',
                   getattr(wrapper, 'broadcast_buffers', False))
    return type(wrapper)(
        wrapper.module, device_ids=wrapper.device_ids,
        find_unused_parameters=wrapper.find_unused_parameters,
        **no_buffer_sync(sync))
