"""An installed optional package must not break ``import mmrazor_ext`` nor
the tools (issue 12 item 10), and mmseg must import beside an mmcv without
compiled ops (issue 15: the ``mmcv.ops`` stand-in). Imports are
process-wide, hence a fresh interpreter per case: one with the installed
mmseg (real, needs ``mmcv._ext``) and a fake ``mmdet`` whose ``models``
fails, one with a simulated compiled ``mmcv._ext`` (mmcv-full)."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytest.importorskip('mmseg', reason='mmsegmentation is not installed')


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    site = tmp_path_factory.mktemp('site')
    (site / 'mmdet' / 'models').mkdir(parents=True)
    (site / 'mmdet' / '__init__.py').write_text("__version__ = '2.25.0'\n")
    (site / 'mmdet' / 'models' / '__init__.py').write_text(
        'import mmdet_missing_dependency  # noqa: F401\n')
    # what mmcv-full adds: a compiled mmcv._ext (here: ops that compute 0)
    (site / 'compiled' / 'mmcv').mkdir(parents=True)
    (site / 'compiled' / 'mmcv' / '_ext.py').write_text(
        'def __getattr__(name):\n'
        "    if name.startswith('__'):\n"
        '        raise AttributeError(name)\n'
        '    return lambda *args, **kwargs: 0\n')
    return site


def _run(site, code):
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([str(site), ROOT]))
    res = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return res


def test_tools_run_with_mmseg_and_a_broken_package(site):
    """The tool starts as a user runs it, its own imports first; the
    broken mmdet is hidden with one warning; the real mmseg imports through
    the stand-in and mmrazor registers its models."""
    code = ('import runpy, sys\n'
            "sys.argv = ['tools/train.py', '--help']\n"
            'try:\n'
            "    runpy.run_path('tools/train.py', run_name='__main__')\n"
            'except SystemExit as e:\n'
            '    assert e.code in (0, None), e.code\n'
            'import mmcv._ext, mmrazor.models, mmseg.models\n'
            'from mmrazor_ext.compat import is_stand_in\n'
            "assert sys.modules['mmdet'] is None\n"
            'assert is_stand_in(mmcv._ext)\n'
            "assert 'MMSegArchitecture' in mmrazor.models.ARCHITECTURES\n"
            "assert 'EncoderDecoder' in mmseg.models.SEGMENTORS\n"
            "print('imported')\n")
    res = _run(site, code)
    assert 'usage' in res.stdout and res.stdout.strip().endswith('imported')
    lines = [ln for ln in res.stderr.splitlines() if 'optional package' in ln]
    assert len(lines) == 1, res.stderr[-2000:]
    assert "'mmdet'" in lines[0] and 'mmdet_missing_dependency' in lines[0]
    assert 'mmcv._ext' not in res.stderr  # nothing about mmseg


def test_compiled_ops_are_left_alone(site):
    """With a compiled ``mmcv._ext`` (mmcv-full, simulated by a directory
    on mmcv's package path) the stand-in is never used: mmcv.ops calls
    the compiled module."""
    compiled = str(site / 'compiled' / 'mmcv')
    code = ('import mmcv\n'
            f'mmcv.__path__.append({compiled!r})\n'
            'import mmrazor_ext, mmcv._ext, mmcv.ops, mmseg.models\n'
            'from mmrazor_ext.compat import is_stand_in\n'
            f'assert mmcv._ext.__file__.startswith({compiled!r})\n'
            'assert not is_stand_in(mmcv._ext)\n'
            'from mmcv.ops import psa_mask\n'
            'assert psa_mask.ext_module is mmcv._ext\n'
            "print('compiled')\n")
    res = _run(site, code)
    assert res.stdout.strip().endswith('compiled')


def test_mmrazor_imported_before_mmrazor_ext(tmp_path):
    """A script importing mmrazor's models (which import mmseg, which
    imports mmcv.ops) before mmrazor_ext: the startup hook installed with
    the package (``mmrazor_ext.pth``, processed here as site does it for
    site-packages) has put the ``mmcv._ext`` stand-in finder in place.
    And ``import mmrazor_ext`` leaves geatpy and scikit-learn unloaded."""
    import shutil
    shutil.copy(os.path.join(ROOT, 'mmrazor_ext.pth'), tmp_path)
    code = ('import site, sys\n'
            f'site.addsitedir({str(tmp_path)!r})\n'
            "assert 'mmrazor_ext' not in sys.modules  # only the finder\n"
            'import mmrazor.models, mmseg.models\n'
            'import mmrazor_ext\n'
            '# optional parts load when used (a search, the digits data)\n'
            "assert 'geatpy' not in sys.modules\n"
            "assert 'sklearn' not in sys.modules\n"
            'import mmcv._ext\n'
            'from mmrazor_ext.compat import is_stand_in, mmcv_ops\n'
            'assert is_stand_in(mmcv._ext)\n'
            'assert sum(isinstance(f, mmcv_ops.StandInFinder)\n'
            '           for f in sys.meta_path) == 1\n'
            "assert 'MMSegArchitecture' in mmrazor.models.ARCHITECTURES\n"
            "print('any order')\n")
    res = _run(tmp_path, code)
    assert res.stdout.strip().endswith('any order')
