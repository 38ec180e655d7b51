"""Checkpoints given as URLs (model-zoo ``pretrained``, ``load_from``,
``tools/test.py CHECKPOINT``): downloaded once through mmcv's URL loading
into torch's cache (``$TORCH_HOME/hub/checkpoints``, rank 0 first when
distributed) and read from there afterwards; a URL that cannot be
reached is one line."""
import socket
import urllib.error

from .errors import UserInputError

SCHEMES = ('http://', 'https://')


def is_url(path) -> bool:
    return isinstance(path, str) and path.startswith(SCHEMES)


def load_url_checkpoint(url: str, what: str, timeout: float = 30.0):
    """The checkpoint dict at ``url`` (mmcv's ``load_from_http``).

    Raises:
        UserInputError: The URL cannot be reached (``what checkpoint URL
            cannot be downloaded (reason)``) or holds no torch checkpoint.
    """
    from mmcv.runner.checkpoint import load_from_http
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # urllib's default waits forever
    try:
        ckpt = load_from_http(url, map_location='cpu')
    except urllib.error.HTTPError as e:
        raise UserInputError(f'{what} checkpoint {url} cannot be downloaded '
                             f'(HTTP {e.code} {e.reason})') from e
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, 'reason', None) or e
        raise UserInputError(f'{what} checkpoint {url} cannot be downloaded '
                             f'({reason})') from e
    except Exception as e:  # a download that is not a torch checkpoint
        raise UserInputError(f'{what} checkpoint {url} is corrupt or not a '
                             f'torch checkpoint ({type(e).__name__})') from e
    finally:
        socket.setdefaulttimeout(previous)
    if not isinstance(ckpt, dict):
        raise UserInputError(f'{what} checkpoint {url} holds a '
                             f'{type(ckpt).__name__}, not a state dict')
    return ckpt
