"""mIoU and aAcc of a segmentor on a loader, all of it or its first N
batches (a collective when distributed: call it on every rank)."""
import itertools
from typing import Dict, Optional

from mmcv.parallel import scatter_kwargs
from torch import nn

from ..adapters import mmseg_adapter
from ..utils import is_distributed
from .test_loops import multi_process_test, single_device_test


class _Scattered(nn.Module):
    """Unwraps a test batch's DataContainers onto the model's device, as
    ``MMDataParallel`` does (mmseg batches carry ``img_metas``)."""

    def __init__(self, model: nn.Module, device):
        super().__init__()
        self.model, self.device = model, device

    def forward(self, **data):
        target = [-1] if self.device.type == 'cpu' else [self.device.index
                                                         or 0]
        _, kwargs = scatter_kwargs((), data, target)
        return self.model(**kwargs[0])


class _FirstBatches:
    """The first ``n`` batches of a loader (``dataset`` stays whole)."""

    def __init__(self, loader, n: int):
        self.loader, self.n, self.dataset = loader, n, loader.dataset

    def __iter__(self):
        return itertools.islice(iter(self.loader), self.n)

    def __len__(self):
        return min(self.n, len(self.loader))


def evaluate_segmentation(model: nn.Module, loader,
                          max_batches: Optional[int] = None
                          ) -> Dict[str, float]:
    """``{'mIoU': %, 'aAcc': %}`` of an mmseg segmentor on ``loader`` (its
    first ``max_batches`` batches when given; single process only), by
    the dataset's own mmseg ``evaluate``."""
    device = next(model.parameters()).device
    wrapped = _Scattered(model, device)
    was_training = model.training
    num = None
    if max_batches is not None and not is_distributed():
        loader = _FirstBatches(loader, max_batches)
        num = min(len(loader.dataset), max_batches * loader.loader.batch_size)
    if is_distributed():
        results = multi_process_test(wrapped, loader)
    else:
        results = single_device_test(wrapped, loader, progress_scale=0)
    model.train(was_training)
    return mmseg_adapter.evaluate_results(loader.dataset, results, num)
