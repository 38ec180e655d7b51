"""Command-line pieces shared by the tools."""
import os
import sys

from mmcv import DictAction

from .config_checks import UserInputError

# What a bad config or argument raises while a run is being set up.
USER_ERRORS = (UserInputError, KeyError, TypeError, ValueError,
               FileNotFoundError)


def add_launch_args(parser):
    """``--cfg-options``, ``--launcher`` and ``--local_rank``."""
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
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


def exit_on_user_error(tool, setup, *args):
    """Return ``setup(*args)``; a user error exits with one line."""
    try:
        return setup(*args)
    except USER_ERRORS as e:
        # KeyError's str() adds quotes; registry misses are KeyErrors
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        sys.exit(f'{tool}: error: {msg}')
