# Registers mmrazor_ext's backbones, datasets, runner and algorithms.
custom_imports = dict(imports=['mmrazor_ext'], allow_failed_imports=False)

# a checkpoint each epoch; only the last 2 stay (plus latest.pth, a link):
# with Adam's state, one of CIFAR ResNet-18 is 134 MB
checkpoint_config = dict(interval=1, max_keep_ckpts=2)
log_config = dict(interval=10, hooks=[dict(type='TextLoggerHook')])
log_level = 'INFO'
dist_params = dict(backend=None)  # None: nccl on GPUs, gloo on CPU
load_from = None
resume_from = None
workflow = [('train', 1)]
