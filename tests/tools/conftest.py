import pytest
from tool_runner import run, tiny_config


@pytest.fixture(scope='session')
def trained(tmp_path_factory):
    """One single-process run of 1 epoch: (config, work_dir, result)."""
    tmp = tmp_path_factory.mktemp('trained')
    cfg = tiny_config(tmp / 'tiny.py')
    work = tmp / 'work'
    result = run(['tools/train.py', cfg, '--work-dir', str(work),
                  '--seed', '0'])
    assert result.returncode == 0, result.stderr[-3000:]
    return cfg, work, result
