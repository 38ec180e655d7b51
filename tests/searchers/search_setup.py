"""A tiny HybridSearch setting: ResNet-20 on ~180 digits at 16x16, briefly
trained, searched with small populations."""
import multiprocessing
import os
import os.path as osp
import pickle
import random

import mmrazor_ext  # noqa: F401  (before mmrazor)
import numpy as np
import torch
import torch.distributed as dist
from mmcls.models import build_classifier
from mmrazor.models.builder import build_pruner

from mmrazor_ext.adapters import build_loader, classification_loss, \
    split_batch
from mmrazor_ext.algorithms.pretrained import load_pretrained
from mmrazor_ext.searchers import GeatpySearcher

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL = dict(type='ImageClassifier',
             backbone=dict(type='CifarResNet', depth=20),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=10, in_channels=64,
                       loss=dict(type='CrossEntropyLoss'), topk=(1, 5)))
NORM = dict(type='Normalize', mean=[80.0] * 3, std=[110.0] * 3, to_rgb=False)
DIGITS = dict(type='SklearnDigits', img_size=16)
DATA = dict(
    samples_per_gpu=32, workers_per_gpu=0, persistent_workers=False,
    train=dict(**DIGITS, split='train', val_fraction=0.9, pipeline=[
        dict(type='RandomCrop', size=16, padding=1), NORM,
        dict(type='ImageToTensor', keys=['img']),
        dict(type='ToTensor', keys=['gt_label']),
        dict(type='Collect', keys=['img', 'gt_label'])]),
    val=dict(**DIGITS, split='val', val_fraction=0.05, pipeline=[
        NORM, dict(type='ImageToTensor', keys=['img']),
        dict(type='Collect', keys=['img'])]))
DATA['test'] = DATA['val']
PRUNER = dict(type='ChannelPruner', input_shape=(3, 16, 16),
              divisor=1)  # budgets below what 16-channel steps reach
SEARCH = dict(ea_algorithm='SEGA', budget=dict(flops=0.5), population=4,
              generations=3, seed=0, metric='L1Metric',
              keep_ratios=[0.25, 0.5, 0.75, 1.0],
              search_split=dict(num_images=64), recalibrate_bn=1,
              batch_size=32, eval_batch_size=64)
#: a joint search of widths and blocks under a latency budget, its table
#: measured cheaply (few rounds, 3 validation candidates)
LATENCY = dict(runtime='onnxruntime', threads=1, batch=1, runs=3,
               validate=3, validate_time=0.02, tries=1)
JOINT = dict(ea_algorithm='NSGA2', blocks=True, budget=dict(latency=0.7),
             keep_ratios=[0.5, 1.0], population=4, generations=2)


def train_briefly(path, steps=20):
    """A ResNet-20 trained ``steps`` Adam steps (far from converged, but
    its candidates differ in accuracy), saved as an mmcls checkpoint."""
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)  # mmcls's RandomCrop
    model = build_classifier(MODEL)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loader = build_loader(DATA, 'train', 0)
    done = 0
    while done < steps:
        for batch in loader:
            img, labels = split_batch(batch)
            loss = classification_loss(model, img, labels) / len(img)
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if done == steps:
                break
    torch.save({'state_dict': model.state_dict()}, path)
    return str(path)


def model_and_pruner(checkpoint, depth=20):
    model = build_classifier(dict(MODEL, backbone=dict(
        type='CifarResNet', depth=depth)))
    load_pretrained(model, checkpoint)
    pruner = build_pruner(PRUNER)
    pruner.prepare_from_supernet(model)
    return model, pruner


def make_searcher(checkpoint, work_dir, model_pruner=None, **settings):
    """A GeatpySearcher of ``checkpoint`` with :data:`SEARCH` updated by
    ``settings``; its JSON goes to ``work_dir/search.json``."""
    model, pruner = model_pruner or model_and_pruner(checkpoint)
    cfg = dict(SEARCH, json_name=osp.join(str(work_dir), 'search.json'))
    cfg.update(settings)
    return GeatpySearcher(model, pruner, DATA, checkpoint, str(work_dir),
                          **cfg)


def comparable(result):
    """The parts of a search result that must not depend on timing,
    resumption or the number of processes."""
    keys = ('best', 'pareto', 'references', 'candidates', 'evaluated',
            'cache_hits', 'over_budget', 'split', 'settings')
    out = {k: result[k] for k in keys}
    if 'latency_model' in result:  # what is measured at the end is not
        out.pop('references')  # (nor the references chosen by it)
        out['best'] = {k: v for k, v in out['best'].items()
                       if k not in ('latency_ms', 'latency_measured_ratio')}
        out['best_predicted_ms'] = result['best']['latency_ms']['predicted']
    out['history'] = [{k: v for k, v in h.items() if k != 'seconds'}
                      for h in result['history']]
    return out


def _rank(rank, port, build, out):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        result = build().search()
        with open(f'{out}.{rank}', 'wb') as f:
            pickle.dump(comparable(result), f)
    finally:
        dist.destroy_process_group()


def two_processes(build, port, folder):
    """``build().search()`` in 2 gloo processes (forked: no fresh
    imports); each rank's :func:`comparable` result."""
    ctx = multiprocessing.get_context('fork')
    out = osp.join(str(folder), 'result')
    procs = [ctx.Process(target=_rank, args=(r, port, build, out))
             for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert [p.exitcode for p in procs] == [0, 0]
    results = []
    for r in range(2):
        with open(f'{out}.{r}', 'rb') as f:
            results.append(pickle.load(f))
    return results
