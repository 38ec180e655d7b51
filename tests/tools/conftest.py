import pytest
from tool_runner import console, run_main, tiny_config


@pytest.fixture(scope='session')
def trained(tmp_path_factory):
    """One single-process run of 1 epoch, in this process:
    (config, work_dir, what it logged). What it printed on the console is
    kept in ``console.txt`` beside the config."""
    tmp = tmp_path_factory.mktemp('trained')
    cfg = tiny_config(tmp / 'tiny.py')
    work = tmp / 'work'
    with console() as text:
        log = run_main('train', [cfg, '--work-dir', work, '--seed', '0'])
    (tmp / 'console.txt').write_text(text.getvalue())
    return cfg, work, log
