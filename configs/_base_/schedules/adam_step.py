# Adam, learning rate x0.1 at the given epochs.
optimizer = dict(type='Adam', lr=1e-3, weight_decay=1e-4)
optimizer_config = dict(grad_clip=None)
lr_config = dict(policy='step', step=[60, 80])
runner = dict(type='SafeEpochBasedRunner', max_epochs=100)
