"""Import cost of the package, in fresh interpreters (one per run, the
runs of every checkout interleaved):

- ``import mmrazor_ext``: wall time (median, min) and whether the optional
  parts (geatpy, scikit-learn) were loaded;
- the startup hook (``mmrazor_ext.pth``): ``site.addsitedir`` of a folder
  holding only it, beside a bare ``python -c pass``.

Prints figures for docs/algorithms.md; not a test.

    OMP_NUM_THREADS=1 python tools/benchmarks/import_time.py \
        [--roots CHECKOUT ...] [--runs 7]

``--roots``: checkouts to compare (default: this one), e.g. a copy of an
older commit (``git archive OLD | tar -x -C /tmp/old``) and this one.
"""
import argparse
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OPTIONAL = ('geatpy', 'sklearn', 'mmrazor_ext.adapters.mmseg_adapter',
            'mmseg')
IMPORT = ('import sys, time\n'
          't = time.perf_counter()\n'
          'import mmrazor_ext\n'
          'dt = time.perf_counter() - t\n'
          f'print(dt, *[m for m in {OPTIONAL!r} if m in sys.modules])\n')
HOOK = ('import site, time\n'
        't = time.perf_counter()\n'
        'site.addsitedir({!r})\n'
        'print(time.perf_counter() - t)\n')


def run(root, code):
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run([sys.executable, '-c', code], env=env,
                         cwd=tempfile.gettempdir(), capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), out[1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--roots', nargs='+', default=[ROOT])
    ap.add_argument('--runs', type=int, default=7)
    args = ap.parse_args()
    print(f'load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} '
          f'CPUs, OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS")}')
    times = {r: [] for r in args.roots}
    loaded = {}
    for _ in range(args.runs):
        for root in args.roots:
            dt, mods = run(root, IMPORT)
            times[root].append(dt)
            loaded[root] = mods
    for root in args.roots:
        t = times[root]
        print(f'import mmrazor_ext ({root}): median '
              f'{statistics.median(t):.2f} s, min {min(t):.2f} s; loaded: '
              f'{", ".join(loaded[root]) or "none of " + str(OPTIONAL)}')
    with tempfile.TemporaryDirectory() as hook_dir, \
            tempfile.TemporaryDirectory() as empty:
        shutil.copy(osp.join(args.roots[-1], 'mmrazor_ext.pth'), hook_dir)
        hook, bare = [], []
        for _ in range(3 * args.runs):
            hook.append(run(args.roots[-1], HOOK.format(hook_dir))[0])
            t = time.perf_counter()
            run(args.roots[-1], HOOK.format(empty))
            bare.append(time.perf_counter() - t)
    print(f'startup hook: median {1e3 * statistics.median(hook):.2f} ms '
          f'(min {1e3 * min(hook):.2f}); a bare interpreter start: median '
          f'{1e3 * statistics.median(bare):.1f} ms (min '
          f'{1e3 * min(bare):.1f}); n={len(hook)}')
    print(f'load average {os.getloadavg()[0]:.1f}')


if __name__ == '__main__':
    main()
