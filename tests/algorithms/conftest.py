import importlib.util
import os.path as osp

import pytest
import torch
from mmcls.models import build_classifier
from one_shot_setup import MODEL, ROOT


@pytest.fixture(scope='session')
def pretrained(tmp_path_factory):
    """An (untrained) ResNet-20 checkpoint in mmcls's layout."""
    torch.manual_seed(0)
    model = build_classifier(MODEL)
    model.init_weights()
    path = tmp_path_factory.mktemp('pretrained') / 'classifier.pth'
    torch.save({'state_dict': model.state_dict()}, path)
    return str(path)


@pytest.fixture(scope='session')
def train_main():
    """``tools/train.py``'s ``main`` (in-process: no import cost)."""
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(ROOT, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main
