"""Command-line pieces shared by the tools."""
import argparse
import os
import sys

from mmcv import DictAction

from .config_checks import UserInputError
from .registry_hint import registry_hint

# What a bad config or argument raises while a run is being set up.
USER_ERRORS = (UserInputError, KeyError, TypeError, ValueError,
               FileNotFoundError)


class ToolParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, as the tools'
    other errors are (argparse prints its multi-line usage first)."""

    def error(self, message):
        self.exit(2, f'{self.prog}: error: {message} (see {self.prog} '
                  '--help)\n')


class KeyValueAction(DictAction):
    """mmcv's ``DictAction`` (``key=value`` pairs, values parsed as
    numbers, booleans, lists, tuples), with a one-line error for a pair
    without ``=`` or with unbalanced brackets. An option given twice adds
    to the first (mmcv's replaces it: a script's ``--cfg-options`` would
    be lost to the user's)."""

    def __call__(self, parser, namespace, values, option_string=None):
        for kv in values:
            key, sep, val = kv.partition('=')
            if not sep or not key:
                parser.error(f'{option_string} {kv!r}: expected key=value '
                             f'(e.g. {kv if key else "runner.max_epochs"}'
                             f'=VALUE)')
            if val.count('(') != val.count(')') or \
                    val.count('[') != val.count(']'):
                parser.error(f'{option_string} {kv!r}: unbalanced brackets')
        before = dict(getattr(namespace, self.dest, None) or {})
        super().__call__(parser, namespace, values, option_string)
        setattr(namespace, self.dest,
                {**before, **getattr(namespace, self.dest)})


def add_launch_args(parser):
    """``--cfg-options``, ``--launcher`` and ``--local_rank``."""
    parser.add_argument('--cfg-options', nargs='+', action=KeyValueAction,
                        help='override config keys, key=value; the keys '
                        'must exist in the config')
    parser.add_argument('--launcher', choices=['none', 'pytorch'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_launch_args(parser, argv=None):
    """Parse; older launchers pass the rank only as ``--local_rank``."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def rank_from_env() -> int:
    """This process's global rank as the launcher set it (0 when not
    launched by torchrun), known before torch.distributed starts."""
    return int(os.environ.get('RANK', 0))


def user_error_line(tool, error) -> str:
    """``'{tool}: error: {message}'`` in one line. A KeyError's str()
    adds quotes (registry misses are KeyErrors); an error raised in a
    DataLoader worker comes back with the worker's traceback before it."""
    msg = str(error.args[0] if isinstance(error, KeyError) and error.args
              else error).strip()
    if 'Original Traceback' in msg:
        msg = msg.splitlines()[-1].split(': ', 1)[-1]
    return f'{tool}: error: {registry_hint(msg)}'


def exit_on_user_error(tool, setup, *args, **kwargs):
    """Return ``setup(*args, **kwargs)``; a user error exits with one
    line. Of several processes on a node, only the first prints it (they
    all check the same config), so the launcher's output ends in it."""
    try:
        return setup(*args, **kwargs)
    except USER_ERRORS as e:
        if os.environ.get('LOCAL_RANK', '0') != '0':
            sys.exit(1)
        sys.exit(user_error_line(tool, e))
