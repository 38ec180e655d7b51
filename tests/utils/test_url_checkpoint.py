"""Checkpoints at URLs, served by a local HTTP server in a thread: a
OneShot config whose ``pretrained`` is a URL loads it through mmcv's URL
loading into torch's cache (read from there once the server is gone); a
URL that cannot be reached or does not exist is one line."""
import functools
import http.server
import threading

import pytest
import torch

import mmrazor_ext  # noqa: F401
from mmrazor_ext.apis import build_model, load_config
from mmrazor_ext.utils import UserInputError, check_checkpoint

ROOT = __file__.rsplit('/tests/', 1)[0]
ONE_SHOT = (f'{ROOT}/configs/one_shot/'
            'one-shot-l1_fcn-r18s3-w16-d8_1xb32_digits-seg.py')


@pytest.fixture()
def hub(tmp_path):
    """torch's download cache in a temporary folder."""
    old = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'hub'))
    yield tmp_path / 'hub' / 'checkpoints'
    torch.hub.set_dir(old)


@pytest.fixture()
def server(tmp_path):
    """``(folder served, base URL)``; the server stops after the test."""
    folder = tmp_path / 'www'
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(folder))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f'http://127.0.0.1:{httpd.server_address[1]}'
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_pretrained_url_is_downloaded_once_and_cached(server, hub):
    pytest.importorskip('mmseg.models')
    folder, base = server
    cfg = load_config(ONE_SHOT)
    cfg.algorithm.pretrained = None
    reference = build_model(cfg).architecture.model.state_dict()
    # the model-zoo layout: {'meta': ..., 'state_dict': segmentor keys}
    torch.manual_seed(1)
    weights = {k: torch.randn_like(v.float()).to(v.dtype)
               for k, v in reference.items()}
    torch.save({'meta': {'CLASSES': ['a']}, 'state_dict': weights},
               folder / 'fcn_digits_20260101-abcdef12.pth')
    url = f'{base}/fcn_digits_20260101-abcdef12.pth'
    cfg.algorithm.pretrained = url
    loaded = build_model(cfg).architecture.model.state_dict()
    assert all(torch.equal(loaded[k], weights[k]) for k in weights)
    assert (hub / 'fcn_digits_20260101-abcdef12.pth').is_file()
    (folder / 'fcn_digits_20260101-abcdef12.pth').unlink()  # from cache
    assert check_checkpoint(url, 'pretrained')['meta'] == {'CLASSES': ['a']}


def test_unreachable_and_missing_urls_are_one_line(server, hub, free_port):
    _, base = server
    with pytest.raises(UserInputError) as err:
        check_checkpoint(f'{base}/missing.pth', 'pretrained')
    assert str(err.value) == (f'pretrained checkpoint {base}/missing.pth '
                              'cannot be downloaded (HTTP 404 File not '
                              'found)')
    url = f'http://127.0.0.1:{free_port}/model.pth'
    with pytest.raises(UserInputError) as err:
        check_checkpoint(url, 'load_from')
    msg = str(err.value)
    assert msg.startswith(f'load_from checkpoint {url} cannot be '
                          'downloaded (') and '\n' not in msg
    assert 'refused' in msg.lower()
