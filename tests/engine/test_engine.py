"""The shared engine: BN snapshot/restore and recalibration, evaluation on
N batches, the optimizer's move to a smaller model, CPU latency with its
spread, the report table."""
import itertools

import pytest
import torch
from mmcls.models import build_classifier
from torch import nn

import mmrazor_ext  # noqa: F401
from mmrazor_ext.engine import (build_loader, compare_latency, cpu_latency,
                                evaluate, format_table, move_optimizer_,
                                preserved_bn_stats, recalibrate_bn)

MODEL = dict(type='ImageClassifier',
             backbone=dict(type='CifarResNet', depth=20),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=10, in_channels=64,
                       loss=dict(type='CrossEntropyLoss'), topk=(1, 5)))
PIPE = [dict(type='Normalize', mean=[80.0] * 3, std=[110.0] * 3,
             to_rgb=False), dict(type='ImageToTensor', keys=['img'])]
DATA = dict(samples_per_gpu=32, workers_per_gpu=0,
            train=dict(type='SklearnDigits', img_size=16, split='train',
                       val_fraction=0.9, pipeline=PIPE + [
                           dict(type='ToTensor', keys=['gt_label']),
                           dict(type='Collect', keys=['img', 'gt_label'])]),
            val=dict(type='SklearnDigits', img_size=16, split='val',
                     val_fraction=0.1, pipeline=PIPE + [
                         dict(type='Collect', keys=['img'])]))


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return build_classifier(MODEL).eval()


def test_bn_recalibration_and_restore(model):
    bn = model.backbone.bn1
    before = bn.running_mean.clone()
    loader = build_loader(DATA, 'train')
    with preserved_bn_stats(model):
        recalibrate_bn(model, loader, num_batches=2)
        assert not torch.equal(bn.running_mean, before)
        assert int(bn.num_batches_tracked) == 2 and bn.momentum == 0.1
        assert not model.training  # mode restored
    assert torch.equal(bn.running_mean, before)  # snapshot restored


def test_evaluate_first_batches(model):
    loader = build_loader(DATA, 'val')
    full = evaluate(model, loader)
    assert set(full) == {'top-1', 'top-5'}
    one = evaluate(model, loader, max_batches=1)
    # the first 32 images by hand
    imgs, labels = [], []
    for i in range(32):
        item = loader.dataset[i]
        imgs.append(item['img'])
        labels.append(int(loader.dataset.get_gt_labels()[i]))
    with torch.no_grad():
        pred = model(torch.stack(imgs), return_loss=False)
    hits = sum(int(p.argmax() == y) for p, y in zip(pred, labels))
    assert one['top-1'] == pytest.approx(100 * hits / 32)


def test_move_optimizer_slices_state():
    old = nn.Sequential(nn.Linear(4, 6), nn.Linear(6, 2))
    new = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    opt = torch.optim.SGD(old.parameters(), lr=0.1, momentum=0.9)
    opt.param_groups[0]['lr'] = 0.05  # a schedule's change carries over
    old(torch.randn(5, 4)).sum().backward()
    opt.step()
    kept = torch.tensor([0, 2, 5])
    cuts = {'0.weight': (kept, None), '0.bias': (kept, None),
            '1.weight': (None, kept)}

    def cut(name, t):
        s = cuts.get(name, (None, None))
        for dim, k in enumerate(s):
            if k is not None:
                t = t.index_select(dim, k)
        return t
    buf = opt.state[old[0].weight]['momentum_buffer'].clone()
    assert move_optimizer_(opt, old, new, cut) == 4
    assert [id(p) for p in opt.param_groups[0]['params']] == \
        [id(p) for p in new.parameters()]
    assert opt.param_groups[0]['lr'] == 0.05
    assert torch.equal(opt.state[new[0].weight]['momentum_buffer'],
                       buf[kept])
    assert opt.state[new[1].weight]['momentum_buffer'].shape == (2, 3)
    new(torch.randn(5, 4)).sum().backward()
    opt.step()  # shapes agree


def test_report_rows_follow_the_declared_stages():
    acc = {'top-1': 90.0, 'top-5': 99.0}
    report = dict(stages=[['before_pruning', 'before'],
                          ['after_search', 'best candidate']],
                  accuracy=dict(before_pruning=acc, after_search=acc),
                  flops=dict(unpruned=2e6, pruned=1e6, ratio=0.5),
                  params=dict(unpruned=2e3, pruned=1e3, ratio=0.5),
                  latency_ms={}, finetune_seconds_per_iter=0.1234)
    table = format_table(report)
    lines = table.splitlines()
    assert lines[2].startswith('before') and 'best candidate' in lines[3]
    assert '90.00' in lines[3] and 'fine-tuning s/iter' in table


def test_cpu_latency_keeps_the_spread_of_the_runs():
    models = dict(big=nn.Conv2d(3, 64, 3), small=nn.Conv2d(3, 4, 3))
    stats = cpu_latency(models, (3, 16, 16), batch_sizes=(1, 2),
                        min_time=0.01, min_repeats=7)
    assert list(stats) == ['batch_1', 'batch_2']
    for row in stats.values():
        for s in row.values():
            assert s['runs'] >= 7
            assert 0 < s['q1'] <= s['median'] <= s['q3']


def test_turns_time_each_model_call_after_call():
    """With ``block_time`` a turn is one untimed call, then timed calls for
    that long: models interleave turn by turn, each timed warm."""
    from mmrazor_ext.engine.latency import time_runners
    calls = []
    runners = {name: (lambda x, name=name: calls.append(name))
               for name in ('a', 'b')}
    stats = time_runners(runners, (1, ), min_time=0.02, min_repeats=3,
                         block_time=0.005)
    runs = [len(list(g)) for _, g in itertools.groupby(calls)]
    assert calls[:2] == ['a', 'b'] and len(runs) >= 4  # warm-ups, turns
    assert min(runs[2:]) > 2  # an untimed call, then timed ones
    assert stats['batch_1']['a']['runs'] == calls.count('a') - len(
        runs[2::2]) - 1
    calls.clear()
    time_runners(runners, (1, ), min_time=0.0, min_repeats=3)
    assert calls == ['a', 'b'] * 4  # default: one call a turn


def timing(median, q1, q3):
    return dict(median=median, q1=q1, q3=q3, runs=20)


IDLE = dict(load_average=0.5, cpus=2)


@pytest.mark.parametrize('exported,load,caveat', [
    # 3x faster, tight runs, idle machine: a measurement to trust
    (timing(1.0, 0.98, 1.03), IDLE, None),
    # "3x slower" under load: the same timings, not to be trusted
    (timing(9.0, 8.9, 9.2), dict(load_average=3.4, cpus=2),
     'machine loaded (load 3.4 on 2 CPUs)'),
    # runs spread over more than the difference of the medians
    (timing(2.6, 1.5, 4.5), IDLE,
     'spread (IQR 3.00 ms) larger than the difference (0.40 ms)'),
    # the same speed, steadily measured: no caveat
    (timing(3.01, 2.99, 3.04), IDLE, None),
])
def test_latency_comparison_marks_unreliable_rows(exported, load, caveat):
    row = compare_latency(dict(unpruned=timing(3.0, 2.97, 3.05),
                               exported=exported), load)
    assert row['unpruned'] == 3.0 and row['exported'] == exported['median']
    assert row['speedup'] == pytest.approx(3.0 / exported['median'])
    assert row['iqr'] == dict(unpruned=[2.97, 3.05],
                              exported=[exported['q1'], exported['q3']])
    assert row['runs'] == 20
    assert row['reliable'] == (caveat is None) and row['caveat'] == caveat


def test_report_table_shows_spread_and_caveat():
    fast = compare_latency(dict(unpruned=timing(3.0, 2.97, 3.05),
                                exported=timing(1.0, 0.98, 1.03)), IDLE)
    slow = compare_latency(dict(unpruned=timing(3.0, 2.97, 3.05),
                                exported=timing(9.0, 8.9, 9.2)),
                           dict(load_average=3.4, cpus=2))
    report = dict(accuracy={}, flops=dict(unpruned=2e6, pruned=1e6,
                                          ratio=0.5),
                  params=dict(unpruned=2e3, pruned=1e3, ratio=0.5),
                  latency_ms=dict(batch_1=fast, batch_64=slow),
                  runtime_latency_ms=dict(onnxruntime=dict(batch_1=fast)),
                  latency_threads=1, latency_load=IDLE)
    rows = format_table(report).splitlines()[-4:]
    assert rows[0].split() == ['eager', 'latency', 'batch_1', '(ms)',
                               '3.00', '[2.97-3.05]', '->', '1.00',
                               '[0.98-1.03]', '(x3.00)']
    assert rows[1].endswith('-> 9.00 [8.90-9.20] (x0.33) unreliable: '
                            'machine loaded (load 3.4 on 2 CPUs)')
    cpu = dict(slow, cpu_speedup=1.52)  # one thread: CPU time beside it
    assert format_table(dict(report, latency_ms=dict(
        batch_64=cpu))).splitlines()[-3].endswith(
            'CPUs); CPU time x1.52')
    assert rows[2].split()[:4] == ['ORT', 'latency', 'batch_1', '(ms)']
    assert rows[3].split() == ['latency', 'threads', '1', '(load', '0.5',
                               'on', '2', 'CPUs', 'while', 'timing)']
    report = dict(report, runtime_latency_ms={}, latency_threads=None)
    # a report written before the spread was kept still prints
    old = dict(report, latency_ms=dict(batch_1=dict(
        unpruned=3.0, exported=1.0, speedup=3.0)))
    assert format_table(old).splitlines()[-1].split()[-4:] == \
        ['3.00', '->', '1.00', '(x3.00)']
