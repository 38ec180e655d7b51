import pytest
from tool_runner import run_main, tiny_config


@pytest.fixture(scope='session')
def trained(tmp_path_factory):
    """One single-process run of 1 epoch, in this process:
    (config, work_dir, what it logged)."""
    tmp = tmp_path_factory.mktemp('trained')
    cfg = tiny_config(tmp / 'tiny.py')
    work = tmp / 'work'
    log = run_main('train', [cfg, '--work-dir', work, '--seed', '0'])
    return cfg, work, log
