# SGD with cosine annealing to zero and a short linear warm-up.
optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4)
optimizer_config = dict(grad_clip=None)
lr_config = dict(policy='CosineAnnealing', min_lr=0, warmup='linear',
                 warmup_iters=100, warmup_ratio=0.1)
runner = dict(type='SafeEpochBasedRunner', max_epochs=200)
