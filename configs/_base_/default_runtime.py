# Registers mmrazor_ext's backbones, datasets, runner and algorithms.
custom_imports = dict(imports=['mmrazor_ext'], allow_failed_imports=False)

checkpoint_config = dict(interval=1, max_keep_ckpts=3)
log_config = dict(interval=10, hooks=[dict(type='TextLoggerHook')])
log_level = 'INFO'
dist_params = dict(backend=None)  # None: nccl on GPUs, gloo on CPU
load_from = None
resume_from = None
workflow = [('train', 1)]
