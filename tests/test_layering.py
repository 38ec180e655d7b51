"""The package's layering (docs/algorithms.md#layers): import-linter's
contracts of ``.importlinter`` (no import cycles; layers with apis/ on top;
only adapters/ and the registrations name mmcls / mmseg; nothing imports
tests/), run in this process, plus what import-linter cannot see: a
``sys.path`` entry that reaches into tests/ (as the benchmarks once did to
import the model zoo). About 0.3 s."""
import ast
import glob
import importlib.util
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def test_import_linter_contracts_are_kept(capsys, monkeypatch):
    pytest.importorskip('importlinter')
    # tools/ is a namespace package: pytest puts tests/ (holding
    # tests/tools/) on sys.path, which would merge into it
    monkeypatch.setattr(sys, 'path', [ROOT] + [
        p for p in sys.path if not osp.abspath(p or '.').startswith(
            osp.join(ROOT, 'tests'))])
    monkeypatch.delitem(sys.modules, 'tools', raising=False)
    from importlinter import api  # noqa: F401  (configures import-linter)
    from importlinter.application import use_cases

    # the checkout under test, not another installed copy
    spec = importlib.util.find_spec('mmrazor_ext')
    assert osp.dirname(osp.dirname(spec.origin)) == ROOT, spec.origin
    kept = use_cases.lint_imports(osp.join(ROOT, '.importlinter'),
                                  cache_dir=None, no_logo=True)
    report = capsys.readouterr().out
    assert 'Contracts: 4 kept' in report or not kept, report
    assert kept, ('import-linter contracts broken (`lint-imports` in the '
                  'repository root says the same):\n' + report)


def _reaches_tests(node) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str)
               and (n.value == 'tests' or n.value.startswith('tests/'))
               for n in ast.walk(node))


def test_no_sys_path_into_tests():
    found = []
    files = glob.glob(osp.join(ROOT, 'mmrazor_ext', '**', '*.py'),
                      recursive=True) + glob.glob(
                          osp.join(ROOT, 'tools', '**', '*.py'),
                          recursive=True)
    for path in files:
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(
                    node.func, ast.Attribute) and node.func.attr in (
                        'insert', 'append', 'extend') and ast.unparse(
                            node.func.value) == 'sys.path' and \
                    _reaches_tests(node):
                found.append(f'{osp.relpath(path, ROOT)}:{node.lineno}')
    assert not found, f'sys.path reaches into tests/: {found}'
