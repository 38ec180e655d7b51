import pytest
from search_setup import comparable, make_searcher, train_briefly


@pytest.fixture(scope='session')
def checkpoint(tmp_path_factory):
    """A briefly trained tiny ResNet-20 (mmcls checkpoint)."""
    folder = tmp_path_factory.mktemp('searched')
    return train_briefly(folder / 'classifier.pth')


@pytest.fixture(scope='session')
def searched(checkpoint, tmp_path_factory):
    """One uninterrupted single-process search: (searcher, result)."""
    work = tmp_path_factory.mktemp('search')
    searcher = make_searcher(checkpoint, work)
    result = searcher.search()
    return searcher, result, comparable(result)
