"""The user-error type: bad input from a config, a file or the command line.
The tools print its message as one line instead of a traceback."""


class UserInputError(Exception):
    """Bad input from the command line or a config file."""
