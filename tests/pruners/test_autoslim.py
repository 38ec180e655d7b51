"""mmrazor's AutoSlim runs with ChannelPruner in place of RatioPruner."""
import torch
from mmrazor.models.builder import build_algorithm

import mmrazor_ext  # noqa: F401


def test_autoslim_train_step():
    model = dict(
        type='mmcls.ImageClassifier',
        backbone=dict(type='MobileNetV2', widen_factor=1.0),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=1280,
                  loss=dict(type='CrossEntropyLoss')))
    algo = build_algorithm(dict(
        type='AutoSlim',
        architecture=dict(type='MMClsArchitecture', model=model),
        pruner=dict(type='ChannelPruner', input_shape=(3, 32, 32),
                    ratios=(2 / 12, 4 / 12, 6 / 12, 8 / 12, 10 / 12, 1.0)),
        retraining=False, bn_training_mode=True, input_shape=None))
    opt = torch.optim.SGD(algo.parameters(), lr=0.01)
    data = dict(img=torch.randn(2, 3, 32, 32), gt_label=torch.tensor([1, 2]))
    before = [p.detach().clone() for p in algo.parameters()]
    out = algo.train_step(data, opt)
    assert {'max_model.loss', 'min_model.loss',
            'prune_model1.loss'} <= set(out['log_vars'])
    assert torch.isfinite(out['loss'])
    assert any(not torch.equal(a, b)
               for a, b in zip(before, algo.parameters()))
    # min channel setting really narrows the spaces
    algo.pruner.set_min_channel()
    cfg = algo.pruner.export_subnet()
    assert any(c.get('out_channels', 0) < c.get('raw_out_channels', 0)
               for c in cfg.values())
