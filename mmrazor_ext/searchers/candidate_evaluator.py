"""Candidate evaluation by inference: the candidate exported (widths
pruned, blocks removed), BatchNorm statistics re-estimated on a few
training batches, top-1 on a held-out split of the training set.

The split is carved from ``data.train`` with a fixed seed (never the val
set): ``num_images`` images go to the search split (read with the val
pipeline: no augmentation), the rest of the training set serves the BN
recalibration batches and the metric's statistics (with the training
pipeline). Both are built once and held in memory, so a candidate costs
only its forward passes.
"""
import random
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ..adapters import build_loader, split_batch, trace_forward
from ..engine import recalibrate_bn
from ..fusion import remove_blocks
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
    """Top-1 of candidates on the search split.

    For each candidate the pruner exports its widths (a physically pruned
    copy: it costs what the candidate costs, not the full width), the
    blocks it removes are replaced by their shortcuts (Fusion's
    ``remove_blocks``), BatchNorm statistics are re-estimated on the
    recalibration batches (cumulative average, this process only) and
    top-1 is measured; the searched model itself is not changed.

    Args:
        pruner: The prepared ``ChannelPruner`` of the model.
        images (Tensor): Search images ``[N, C, H, W]``.
        labels (Tensor): Their labels ``[N]``.
        recal_batches (list[dict]): Training batches for BN statistics.
        batch_size (int): Images per forward pass on the search split.
        blocks (list[BlockInfo]): Blocks candidates may remove.
    """

    def __init__(self, pruner, images: Tensor, labels: Tensor,
                 recal_batches: List[dict], batch_size: int = 128,
                 blocks=()):
        self.pruner, self.model = pruner, pruner.model
        device = next(self.model.parameters()).device
        self.images, self.labels = images.to(device), labels.to(device)
        self.recal = [dict(img=split_batch(b)[0].to(device))
                      for b in recal_batches]
        self.batch_size = int(batch_size)
        self.blocks = list(blocks)

    def candidate(self, subnet: Dict[str, List[int]],
                  removed: Sequence[str] = ()) -> nn.Module:
        """The candidate as a model of its own (widths exported, blocks
        ``removed`` replaced by their shortcuts)."""
        model = self.pruner.export(subnet)
        if removed:
            remove_blocks(model, self.blocks, removed)
        return model

    @torch.no_grad()
    def top1(self, model: Optional[nn.Module] = None) -> float:
        """Top-1 (%) on the search split of ``model`` (default: the
        searched model as it is)."""
        model = self.model if model is None else model
        was_training = model.training
        model.eval()
        correct = 0
        try:
            for i in range(0, len(self.images), self.batch_size):
                logits = trace_forward(model,
                                       self.images[i:i + self.batch_size])
                correct += int((logits.argmax(1) ==
                                self.labels[i:i + self.batch_size]).sum())
        finally:
            model.train(was_training)
        return 100.0 * correct / len(self.images)

    def __call__(self, subnet: Dict[str, List[int]],
                 removed: Sequence[str] = ()) -> float:
        """Search top-1 (%) of the candidate ``subnet`` with the blocks
        ``removed``, after BN recalibration."""
        model = self.candidate(subnet, removed)
        recalibrate_bn(model, self.recal, len(self.recal), sync=False)
        return self.top1(model)
