"""Top-k accuracy of a classifier on a loader, all of it or its first N
batches (a collective when distributed: call it on every rank)."""
import itertools
from typing import Dict, Optional

from torch import nn

from .seg_evaluation import evaluate_segmentation
from .test_loops import multi_process_test, single_device_test
from ..adapters import mmseg_adapter
from ..utils import is_distributed


class _OnDevice(nn.Module):
    """Moves a test batch's images to the model's device."""

    def __init__(self, model: nn.Module, device):
        super().__init__()
        self.model, self.device = model, device

    def forward(self, img, return_loss=False, **kwargs):
        return self.model(img.to(self.device), return_loss=False, **kwargs)


class _FirstBatches:
    """The first ``n`` batches of a loader, with its dataset cut to the
    images they hold (so ``dataset.evaluate`` sees matching labels)."""

    def __init__(self, loader, n: int):
        self.loader, self.n = loader, n
        self.dataset = _Head(loader.dataset,
                             min(len(loader.dataset), n * loader.batch_size))

    def __iter__(self):
        return itertools.islice(iter(self.loader), self.n)

    def __len__(self):
        return min(self.n, len(self.loader))


class _Head:

    def __init__(self, dataset, n):
        self.dataset, self.n = dataset, n

    def __len__(self):
        return self.n

    def evaluate(self, results, **kwargs):
        return self.dataset.evaluate(results, indices=range(self.n),
                                     **kwargs)


def evaluate(model: nn.Module, loader, topk=(1, 5),
             max_batches: Optional[int] = None) -> Dict[str, float]:
    """``{'top-1': %, 'top-5': %}`` of an mmcls classifier on ``loader``
    (its first ``max_batches`` batches when given; single process only);
    ``{'mIoU': %, 'aAcc': %}`` of an mmseg segmentor on an mmseg dataset
    (:func:`evaluate_segmentation`)."""
    if mmseg_adapter.is_segmentation_dataset(loader.dataset):
        return evaluate_segmentation(model, loader, max_batches)
    param = next(model.parameters())
    wrapped = _OnDevice(model, param.device)
    was_training = model.training
    if max_batches is not None and not is_distributed():
        loader = _FirstBatches(loader, max_batches)
    if is_distributed():
        results = multi_process_test(wrapped, loader)
    else:
        results = single_device_test(wrapped, loader, progress_scale=0)
    model.train(was_training)
    num_classes = len(results[0]) if results else max(topk)
    topk = tuple(k for k in topk if k <= num_classes)
    res = loader.dataset.evaluate(results[:len(loader.dataset)],
                                  metric='accuracy',
                                  metric_options=dict(topk=topk))
    return {f'top-{k}': float(res[f'accuracy_top-{k}']) for k in topk}
