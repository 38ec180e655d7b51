"""Cost of collecting feature-metric statistics on CifarResNet-56.

Prints (no assertion; figures go to docs/metrics.md):

1. time to collect CDP / HRank (and Taylor, for reference) statistics over
   ``--num-images`` images, relative to plain inference over the same
   images (same batches, same model call, eval mode; best of
   ``--repeats`` interleaved runs, as other processes may share the CPU);
2. peak memory of collection at 500 vs 2,000 images, each in a fresh
   process: the peak resident set size during the run above the one
   before it (sampled from /proc every 2 ms; ``resource``'s ru_maxrss
   alone is dominated by the peak while importing libraries), plus the
   bytes the collectors hold, which must not depend on the number of
   images. Children run with a fixed glibc mmap threshold unless
   ``--default-malloc`` (see ``measure_in_child``).

Images are random 32x32 tensors generated batch by batch (so the data do
not add memory that grows with their number); labels cycle over 10 classes.

Example:
    python tools/benchmarks/metric_cost.py --num-images 1000 --threads 2
"""
import argparse
import json
import resource
import os
import subprocess
import sys
import threading
import time

import torch


def build_model():
    import mmrazor_ext  # noqa: F401
    from mmcls.models import build_classifier
    torch.manual_seed(0)
    model = build_classifier(dict(
        type='ImageClassifier', backbone=dict(type='CifarResNet', depth=56),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))))
    return model.eval()


def batches(num_images, batch_size):
    """Lazily generated, seeded batches in the mmcls dict format."""
    for start in range(0, num_images, batch_size):
        size = min(batch_size, num_images - start)
        gen = torch.Generator().manual_seed(start)
        yield dict(img=torch.randn(size, 3, 32, 32, generator=gen),
                   gt_label=torch.arange(start, start + size) % 10)


def time_inference(model, num_images, batch_size):
    start = time.perf_counter()
    with torch.no_grad():
        for batch in batches(num_images, batch_size):
            model(img=batch['img'], return_loss=False)
    return time.perf_counter() - start


def time_collection(model, metric, num_images, batch_size):
    from mmrazor_ext.metrics import collect_statistics
    start = time.perf_counter()
    collectors = collect_statistics(model, metric,
                                    batches(num_images, batch_size))
    for collector in collectors.values():
        collector.compute()
    return time.perf_counter() - start, collectors


def stats_bytes(collectors):
    return sum(v.numel() * v.element_size() for c in collectors.values()
               for v in c.stats.values())


def rss_mib():
    try:
        with open('/proc/self/statm') as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf('SC_PAGE_SIZE') / 2**20
    except OSError:  # no /proc: the process peak is the best we have
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PeakRSS:
    """Samples the resident set size in a thread while the block runs."""

    def __enter__(self):
        self.base = self.peak = rss_mib()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, rss_mib())
            time.sleep(0.002)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, rss_mib())


def child(metric, num_images, batch_size):
    """Runs in a fresh process: RSS growth of one collection (or of plain
    inference when metric is 'none') over the state after a warm-up."""
    model = build_model()
    time_inference(model, batch_size, batch_size)  # allocator warm-up
    held = 0
    with PeakRSS() as rss:
        if metric == 'none':
            time_inference(model, num_images, batch_size)
        else:
            held = stats_bytes(time_collection(model, metric, num_images,
                                               batch_size)[1])
    print(json.dumps(dict(base_mib=rss.base, peak_mib=rss.peak,
                          stats_bytes=held)))


def measure_in_child(args, metric, num_images):
    env = dict(os.environ)
    if not args.default_malloc:
        # glibc raises its mmap threshold each time a large block is freed,
        # after which freed feature maps stay in a fragmented heap and RSS
        # creeps up with the number of batches for any workload; a fixed
        # threshold returns them to the OS so RSS shows what is held
        env.setdefault('MALLOC_MMAP_THRESHOLD_', str(128 * 1024))
    out = subprocess.run(
        [sys.executable, __file__, '--child', metric, '--num-images',
         str(num_images), '--batch-size', str(args.batch_size),
         '--threads', str(args.threads)],
        check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-images', type=int, default=1000)
    parser.add_argument('--batch-size', type=int, default=100)
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--metrics', nargs='+',
                        default=['CDPMetric', 'HRankMetric', 'TaylorMetric'])
    parser.add_argument('--repeats', type=int, default=2,
                        help='timings are the best of this many runs')
    parser.add_argument('--memory-metrics', nargs='+',
                        default=['CDPMetric', 'HRankMetric'])
    parser.add_argument('--memory-sizes', nargs='*', type=int,
                        default=[500, 2000], help='none: skip memory')
    parser.add_argument('--default-malloc', action='store_true',
                        help='measure memory with glibc\'s dynamic mmap '
                        'threshold (RSS then also grows from fragmentation)')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        return child(args.child, args.num_images, args.batch_size)

    model = build_model()
    print(f'CifarResNet-56, {args.num_images} images 3x32x32, batch '
          f'{args.batch_size}, {args.threads} threads, torch '
          f'{torch.__version__}, device cpu')
    time_inference(model, args.batch_size, args.batch_size)  # warm-up
    # best of --repeats, inference and collections interleaved, so load
    # from other processes does not land on one side only
    base, best, held = float('inf'), {}, {}
    for _ in range(args.repeats):
        base = min(base, time_inference(model, args.num_images,
                                        args.batch_size))
        for metric in args.metrics:
            seconds, collectors = time_collection(
                model, metric, args.num_images, args.batch_size)
            best[metric] = min(best.get(metric, seconds), seconds)
            held[metric] = (len(collectors), stats_bytes(collectors))
    print(f'  plain inference     {base:7.2f} s  1.00x  (best of '
          f'{args.repeats})')
    for metric in args.metrics:
        print(f'  {metric:<19} {best[metric]:7.2f} s  '
              f'{best[metric] / base:.2f}x  ({held[metric][0]} layers '
              f'hooked, statistics {held[metric][1] / 1024:.1f} KiB)')

    if not args.memory_sizes:
        return
    malloc = 'default malloc' if args.default_malloc else \
        'MALLOC_MMAP_THRESHOLD_=131072'
    print(f'Peak RSS during the run minus RSS before it (fresh process '
          f'each, {malloc}):')
    for metric in ['none'] + args.memory_metrics:
        rows = [measure_in_child(args, metric, n) for n in args.memory_sizes]
        label = 'plain inference' if metric == 'none' else metric
        grown = ', '.join(
            f'{n} images +{r["peak_mib"] - r["base_mib"]:.1f} MiB'
            for n, r in zip(args.memory_sizes, rows))
        held = ' / '.join(str(r['stats_bytes']) for r in rows)
        print(f'  {label:<16} {grown}; statistics held {held} B '
              f'(base {rows[0]["base_mib"]:.0f} MiB)')


if __name__ == '__main__':
    main()
