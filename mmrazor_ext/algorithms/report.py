"""The OneShot report: a JSON file and the table printed in the log."""
import json
import os
import tempfile

import torch

STAGES = (('before_pruning', 'before pruning'),
          ('after_pruning', 'right after pruning'),
          ('after_recalibration', '+ BN recalibration'),
          ('after_finetune', 'after fine-tuning'))


def atomic_write(path: str, write) -> None:
    """``write(tmp_path)`` into a temp file beside ``path``, then rename,
    so a reader never sees a half-written file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.',
                               dir=folder)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_json(obj, path: str) -> None:
    def write(tmp):
        with open(tmp, 'w') as f:
            json.dump(obj, f, indent=1)
    atomic_write(path, write)


def save_module(module, path: str) -> None:
    """``torch.save`` of a whole module, atomically."""
    atomic_write(path, lambda tmp: torch.save(module, tmp))


def _acc(rec, key):
    return f'{rec[key]:.2f}' if rec and key in rec else '-'


def format_table(report: dict) -> str:
    """The report as a plain-text table."""
    acc = report['accuracy']
    rows = [('stage', 'top-1', 'top-5')]
    rows += [(label, _acc(acc.get(key), 'top-1'),
              _acc(acc.get(key), 'top-5')) for key, label in STAGES
             if key in acc]
    fl, pa = report['flops'], report['params']
    rows += [('FLOPs (M)', f'{fl["unpruned"] / 1e6:.2f}',
              f'-> {fl["pruned"] / 1e6:.2f} ({fl["ratio"]:.1%})'),
             ('params (K)', f'{pa["unpruned"] / 1e3:.1f}',
              f'-> {pa["pruned"] / 1e3:.1f} ({pa["ratio"]:.1%})')]
    for batch, ms in report.get('latency_ms', {}).items():
        rows.append((f'CPU latency {batch} (ms)', f'{ms["unpruned"]:.2f}',
                     f'-> {ms["exported"]:.2f} (x{ms["speedup"]:.2f})'))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ['  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
             for r in rows]
    lines.insert(1, '-' * len(lines[0]))
    lines.insert(len(acc) + 2, '-' * len(lines[0]))
    return '\n'.join(lines)
