"""Candidate evaluation by inference: the candidate's masks set in place,
BatchNorm statistics re-estimated on a few training batches, top-1 on a
held-out split of the training set, then the model restored.

The split is carved from ``data.train`` with a fixed seed (never the val
set): ``num_images`` images go to the search split (read with the val
pipeline: no augmentation), the rest of the training set serves the BN
recalibration batches and the metric's statistics (with the training
pipeline). Both are built once and held in memory, so a candidate costs
only its forward passes.
"""
import random
from typing import Dict, List, Optional

import numpy as np
import torch
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from ..adapters import build_loader, split_batch, trace_forward
from ..engine import preserved_bn_stats
from ..utils import UserInputError


class SearchSplit:
    """A seeded split of the training set: search images (val pipeline)
    and the rest (training pipeline).

    Args:
        data_cfg (dict): The config's ``data`` (``train``, ``val``).
        num_images (int): Images held out for the search accuracy.
        seed (int): Seed of the split and of the training batches.
    """

    def __init__(self, data_cfg, num_images: int = 256, seed: int = 0):
        self.data_cfg, self.seed = data_cfg, int(seed)
        train_cfg = data_cfg['train']
        pipeline = data_cfg['val']['pipeline']
        cfg = dict(data_cfg, search=dict(train_cfg, pipeline=pipeline))
        self.held = build_loader(cfg, 'search').dataset  # test mode
        self.train = build_loader(data_cfg, 'train', self.seed).dataset
        total = len(self.held)
        if not 0 < int(num_images) < total:
            raise UserInputError(
                f'searcher search_split.num_images={num_images} must be in '
                f'[1, {total - 1}] (the training set has {total} images)')
        order = np.random.RandomState(self.seed).permutation(total)
        self.search_idx = np.sort(order[:int(num_images)])
        self.rest_idx = np.sort(order[int(num_images):])

    def describe(self) -> dict:
        return dict(source='data.train', search_images=len(self.search_idx),
                    other_train_images=len(self.rest_idx), seed=self.seed,
                    search_indices_head=self.search_idx[:10].tolist())

    def search_data(self):
        """``(images, labels)`` of the search split, in index order."""
        imgs = [split_batch(self.held[int(i)])[0] for i in self.search_idx]
        labels = torch.as_tensor(
            np.asarray(self.held.get_gt_labels())[self.search_idx])
        return torch.stack(imgs), labels.long()

    def train_batches(self, num_batches: int, batch_size: int,
                      seed: Optional[int] = None) -> List[dict]:
        """``num_batches`` seeded batches of the images outside the search
        split, through the training pipeline (``{'img', 'gt_label'}``)."""
        seed = self.seed if seed is None else seed
        rng = np.random.RandomState(seed)
        order = rng.permutation(self.rest_idx)
        # mmcls augments draw from numpy and from python's random
        np_state, py_state = np.random.get_state(), random.getstate()
        np.random.seed(seed)
        random.seed(seed)
        try:
            batches = []
            for b in range(num_batches):
                idx = order[(b * batch_size) % len(order):][:batch_size]
                items = [split_batch(self.train[int(i)]) for i in idx]
                batches.append(dict(
                    img=torch.stack([x for x, _ in items]),
                    gt_label=torch.stack([torch.as_tensor(y).reshape(())
                                          for _, y in items])))
            return batches
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


class CandidateEvaluator:
    """Top-1 of subnets on the search split, evaluated in place.

    For each candidate: its masks are set on the pruner's model (no copy),
    BatchNorm statistics are re-estimated on the recalibration batches
    (cumulative average, this process only), top-1 is measured; afterwards
    the masks and BN statistics are what they were.

    Args:
        pruner: The prepared ``ChannelPruner`` of ``model``.
        images (Tensor): Search images ``[N, C, H, W]``.
        labels (Tensor): Their labels ``[N]``.
        recal_batches (list[dict]): Training batches for BN statistics.
        batch_size (int): Images per forward pass on the search split.
    """

    def __init__(self, pruner, images: Tensor, labels: Tensor,
                 recal_batches: List[dict], batch_size: int = 128):
        self.pruner, self.model = pruner, pruner.model
        device = next(self.model.parameters()).device
        self.images, self.labels = images.to(device), labels.to(device)
        self.recal = [split_batch(b)[0].to(device) for b in recal_batches]
        self.batch_size = int(batch_size)

    @torch.no_grad()
    def _recalibrate(self) -> None:
        bns = [m for m in self.model.modules()
               if isinstance(m, _BatchNorm) and m.track_running_stats]
        if not bns or not self.recal:
            return
        momenta = [bn.momentum for bn in bns]
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the batches
        self.model.train()
        try:
            for img in self.recal:
                trace_forward(self.model, img)
        finally:
            for bn, momentum in zip(bns, momenta):
                bn.momentum = momentum

    @torch.no_grad()
    def top1(self) -> float:
        """Top-1 (%) of the model as it is on the search split."""
        self.model.eval()
        correct = 0
        for i in range(0, len(self.images), self.batch_size):
            logits = trace_forward(self.model,
                                   self.images[i:i + self.batch_size])
            correct += int((logits.argmax(1) ==
                            self.labels[i:i + self.batch_size]).sum())
        return 100.0 * correct / len(self.images)

    def __call__(self, subnet: Dict[str, List[int]]) -> float:
        """Search top-1 (%) of ``subnet``; the model is left as it was."""
        before = self.pruner.get_subnet()
        was_training = self.model.training
        try:
            with preserved_bn_stats(self.model):
                self.pruner.set_subnet(subnet)
                self._recalibrate()
                return self.top1()
        finally:
            self.pruner.set_subnet(before)
            self.model.train(was_training)
