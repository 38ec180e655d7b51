"""What a run prints: a few lines on the console (versions, device, work
dir, log file, then the training log), while the environment, the
config, the hook order and mmcv's weight-initialisation record go to the
log file only, as OpenMMLab keeps them there too.

A tool takes the logger with :func:`console_logger` before building
anything, builds its model inside :func:`init_log_to_buffer` (mmcv writes
hundreds of initialisation lines to the console when its logger has no
file yet), and hands both to :func:`attach_log_file` once the work dir
exists.
"""
import contextlib
import io
import logging
import os
import os.path as osp
import platform
import time

from mmcv.utils import get_logger
from mmcv.utils.logging import logger_initialized

#: ``extra=`` of a record that goes to the log file, not the console.
FILE_ONLY = {'file_only': True}

# Records of mmcv kept out of the console, by how they start.
_FILE_ONLY_STARTS = ('Hooks will be executed', 'initialize ',
                     'Checkpoints will be saved')

_FORMAT = '%(asctime)s - %(name)s - %(levelname)s - %(message)s'


class ConsoleFilter(logging.Filter):
    """Lets through what a person reads on the console: not the records
    marked :data:`FILE_ONLY`, nor mmcv's hook order and initialisation."""

    def filter(self, record):
        if getattr(record, 'file_only', False):
            return False
        msg = record.msg if isinstance(record.msg, str) else ''
        return not msg.startswith(_FILE_ONLY_STARTS)


def _is_console(handler):
    return isinstance(handler, logging.StreamHandler) and \
        not isinstance(handler, logging.FileHandler)


def console_logger(name='mmcls', log_level='INFO'):
    """mmcls's root logger (``get_root_logger``'s, which the runner and
    the hooks use) with :class:`ConsoleFilter` on its console handler;
    no file yet (:func:`attach_log_file`). Taken before torch.distributed
    starts, so the rank comes from the launcher's ``RANK``: only rank 0
    logs below ERROR, as with mmcv's ``get_logger``."""
    if int(os.environ.get('RANK', 0)) != 0:
        log_level = 'ERROR'
    logger = get_logger(name, log_level=log_level)
    for handler in logger.handlers[:]:
        if _is_console(handler) and not any(
                isinstance(f, ConsoleFilter) for f in handler.filters):
            handler.addFilter(ConsoleFilter())
        if isinstance(handler, _Pending):  # of a run that stopped early
            logger.removeHandler(handler)
    logger.addHandler(_Pending())
    return logger


class _BufferHandler(logging.FileHandler):
    """A FileHandler in memory: mmcv's ``_dump_init_info`` writes to the
    stream of a logger's FileHandler, and to the console only without."""

    def __init__(self):
        logging.Handler.__init__(self)  # no file opened
        self.baseFilename = ''
        self.stream = io.StringIO()
        self.setFormatter(logging.Formatter(_FORMAT))

    def emit(self, record):
        self.stream.write(self.format(record) + '\n')

    def close(self):
        logging.Handler.close(self)


class _Pending(_BufferHandler):
    """What the logger says before the log file exists (the run's
    settings being checked, the model built): written to the file first
    by :func:`attach_log_file`."""


@contextlib.contextmanager
def init_log_to_buffer():
    """Within the block, what mmcv logs while initialising weights (the
    logger ``BaseModule.init_weights`` picks) goes into a buffer, yielded
    as a ``StringIO``, instead of to the console."""
    name = next(iter(logger_initialized), 'mmcv')
    logger = get_logger(name)
    saved, propagate = logger.handlers[:], logger.propagate
    buffer = _BufferHandler()
    logger.handlers, logger.propagate = [buffer], False
    try:
        yield buffer.stream
    finally:
        logger.handlers, logger.propagate = saved, propagate


def unique_timestamp(work_dir):
    """``YYYYmmdd_HHMMSS`` naming this run's log files, with ``_2``,
    ``_3``... when a run of the same second already used it."""
    stamp = time.strftime('%Y%m%d_%H%M%S', time.localtime())
    name, n = stamp, 1
    while osp.exists(osp.join(work_dir, f'{name}.log')) or \
            osp.exists(osp.join(work_dir, f'{name}.log.json')):
        n += 1
        name = f'{stamp}_{n}'
    return name


def attach_log_file(logger, path, *buffered):
    """Add ``path`` as the log file of ``logger`` (rank 0 only, as mmcv's
    ``get_logger`` does) and write there first what the logger said
    before, then the ``buffered`` texts."""
    from mmcv.runner import get_dist_info
    pending = [h for h in logger.handlers if isinstance(h, _Pending)]
    for h in pending:
        logger.removeHandler(h)
    if get_dist_info()[0] != 0:
        return None
    handler = logging.FileHandler(path, 'w')
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(logger.level)
    for text in [h.stream for h in pending] + list(buffered):
        handler.stream.write(text.getvalue() if hasattr(text, 'getvalue')
                             else text)
    logger.addHandler(handler)
    return handler


def detach_log_file(logger, handler):
    """Close the file :func:`attach_log_file` opened (the same process
    may run again: in-process tools, tests)."""
    if handler is not None:
        logger.removeHandler(handler)
        handler.close()


def versions_line():
    """The versions a run reports on its first console line."""
    import mmcls
    import mmcv
    import mmrazor
    import torch

    from ..version import __version__
    return (f'mmrazor_ext {__version__}, mmcls {mmcls.__version__}, '
            f'mmrazor {mmrazor.__version__}, mmcv {mmcv.__version__}, '
            f'torch {torch.__version__}, Python {platform.python_version()}')


def run_line(cfg, distributed, log_file):
    """Device, processes, work dir and log file, in one line."""
    from mmcv.runner import get_dist_info
    world = get_dist_info()[1]
    procs = f'{world} process' + ('es' if world != 1 else '')
    backend = ''
    if distributed:
        import torch.distributed as dist
        backend = f' ({dist.get_backend()})'
    return (f'{cfg.device}, {procs}{backend}; work_dir '
            f'{osp.abspath(cfg.work_dir)}; log {log_file}')


def env_info_text():
    """mmcv's environment report plus the versions of this stack (mmcls's
    ``collect_env`` asks git for a hash in the current folder, which prints
    an error outside a repository)."""
    from mmcv.utils import collect_env
    info = collect_env()
    info['Versions'] = versions_line()
    return '\n'.join(f'{k}: {v}' for k, v in info.items())
