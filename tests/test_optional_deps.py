"""Issue 12 item 10: an installed but broken optional package (mmseg
beside an mmcv without compiled ops) must not break ``import mmrazor_ext``
nor the tools. Imports are process-wide, hence a fresh interpreter per
case, with a fake ``mmseg`` whose ``models`` fails as the real one does."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def broken_mmseg(tmp_path_factory):
    site = tmp_path_factory.mktemp('site')
    (site / 'mmseg' / 'models').mkdir(parents=True)
    (site / 'mmseg' / '__init__.py').write_text("__version__ = '0.30.0'\n")
    (site / 'mmseg' / 'models' / '__init__.py').write_text(
        'import mmcv._ext  # noqa: F401  (mmcv without compiled ops)\n')
    return str(site)


def _run(site, *args):
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([site, ROOT]))
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_import_and_tools_with_the_broken_package(broken_mmseg):
    """One fresh interpreter (each costs ~10 s): the tool starts as a user
    runs it, its own imports first; then the package is hidden and
    mmrazor's models are whole."""
    code = ('import runpy, sys, mmseg\n'
            "sys.argv = ['tools/train.py', '--help']\n"
            'try:\n'
            "    runpy.run_path('tools/train.py', run_name='__main__')\n"
            'except SystemExit as e:\n'
            '    assert e.code in (0, None), e.code\n'
            'import mmrazor.models\n'
            "assert sys.modules['mmseg'] is None\n"
            "assert 'MMSegArchitecture' in mmrazor.models.ARCHITECTURES\n"
            "print('imported')\n")
    # mmseg itself imports: the failure is only in mmseg.models
    res = _run(broken_mmseg, '-c', code)
    assert res.returncode == 0, res.stderr[-2000:]
    assert 'usage' in res.stdout and res.stdout.strip().endswith('imported')
    lines = [ln for ln in res.stderr.splitlines() if "'mmseg'" in ln]
    assert len(lines) == 1, res.stderr[-2000:]
    assert 'mmcv._ext' in lines[0] and 'mmseg.models' in lines[0]
