"""The report of a compression run: a JSON file and the table printed in
the log. Accuracy rows are the stages an algorithm declares (``stages``:
``[[key, label], ...]``), so a new algorithm adds its own rows."""

DEFAULT_STAGES = (('before_pruning', 'before pruning'),
                  ('after_pruning', 'right after pruning'),
                  ('after_recalibration', '+ BN recalibration'),
                  ('after_finetune', 'after fine-tuning'))


#: Row labels of the runtimes timed beside eager PyTorch.
RUNTIME_LABELS = {'onnxruntime': 'ORT', 'openvino': 'OpenVINO'}


def _load(load: dict) -> str:
    if load.get('load_average') is None:
        return ''
    return (f'(load {load["load_average"]:.1f} on {load["cpus"]} CPUs '
            'while timing)')


def _acc(rec, key):
    return f'{rec[key]:.2f}' if rec and key in rec else '-'


def _ms(row, name):
    """Median, and the interquartile range when the report has it."""
    iqr = (row.get('iqr') or {}).get(name)
    spread = f' [{iqr[0]:.2f}-{iqr[1]:.2f}]' if iqr else ''
    return f'{row[name]:.2f}{spread}'


def _caveat(why):
    return f' unreliable: {why}' if why else ''


def format_table(report: dict) -> str:
    """The report as a plain-text table: accuracy per stage (the first two
    metrics of its records: top-1 / top-5, or mIoU / aAcc), FLOPs,
    parameters, CPU latency eager and in each runtime (ORT: ONNX
    Runtime) per batch size (median [first-third quartile], and why a
    comparison is unreliable when it is) of the unpruned and exported
    models, eager also of the exported model against its BN-folded
    deploy model, and the threads they ran on."""
    acc = report['accuracy']
    stages = [(k, label) for k, label in
              report.get('stages', DEFAULT_STAGES) if k in acc]
    # columns: the metrics the records hold (top-1/top-5; mIoU/aAcc)
    cols = ['top-1', 'top-5']
    first = next((acc[k] for k, _ in stages if acc.get(k)), None)
    if first and 'top-1' not in first:
        cols = (list(first) + ['-'])[:2]
    rows = [('stage', *cols)]
    rows += [(label, _acc(acc.get(key), cols[0]),
              _acc(acc.get(key), cols[1])) for key, label in stages]
    fl, pa = report['flops'], report['params']
    rows += [('FLOPs (M)', f'{fl["unpruned"] / 1e6:.2f}',
              f'-> {fl["pruned"] / 1e6:.2f} ({fl["ratio"]:.1%})'),
             ('params (K)', f'{pa["unpruned"] / 1e3:.1f}',
              f'-> {pa["pruned"] / 1e3:.1f} ({pa["ratio"]:.1%})')]
    threads = report.get('latency_threads')
    runtimes = [('eager', report.get('latency_ms', {}))] + [
        (RUNTIME_LABELS.get(b, b), rows_b) for b, rows_b in
        (report.get('runtime_latency_ms') or {}).items()]
    for label, table in runtimes:
        for batch, ms in table.items():
            rows.append((f'{label} latency {batch} (ms)',
                         _ms(ms, 'unpruned'),
                         f'-> {_ms(ms, "exported")} '
                         f'(x{ms["speedup"]:.2f})' +
                         _caveat(ms.get('caveat'))))
        for batch, ms in table.items():
            if label == 'eager' and 'deploy_speedup' in ms:
                # exported vs BN folded, same runs (ORT folds BN itself)
                rows.append((f'  BN folded {batch} (ms)',
                             _ms(ms, 'exported'),
                             f'-> {_ms(ms, "deploy")} '
                             f'(x{ms["deploy_speedup"]:.2f})' +
                             _caveat(ms.get('deploy_caveat'))))
    if threads is not None and len(rows) > len(stages) + 3:
        load = report.get('latency_load') or {}
        rows.append(('latency threads', str(threads), _load(load)))
    sec = report.get('finetune_seconds_per_iter')
    if sec is not None:
        rows.append(('fine-tuning s/iter', f'{sec:.3f}',
                     f'({report.get("finetune", "pruned")} model)'))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ['  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
             for r in rows]
    lines.insert(1, '-' * len(lines[0]))
    lines.insert(len(stages) + 2, '-' * len(lines[0]))
    return '\n'.join(lines)
