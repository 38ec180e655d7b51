# Adam with cosine annealing.
optimizer = dict(type='Adam', lr=1e-3, weight_decay=1e-4)
optimizer_config = dict(grad_clip=None)
lr_config = dict(policy='CosineAnnealing', min_lr=0)
runner = dict(type='SafeEpochBasedRunner', max_epochs=100)
