# SGD, learning rate x0.1 at the given epochs.
optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4)
optimizer_config = dict(grad_clip=None)
lr_config = dict(policy='step', step=[100, 150])
runner = dict(type='SafeEpochBasedRunner', max_epochs=200)
