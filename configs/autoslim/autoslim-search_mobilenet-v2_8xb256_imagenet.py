# AutoSlim, stage 2 of 3: greedy search of the trained MobileNetV2 x1.5
# supernet for 500, 300 and 200 MFLOPs at 224x224, one channel bin (1/12
# of a space) at a time, scored by top-1 on the validation set:
#   tools/search.py <this config> \
#       work_dirs/autoslim-supernet_mobilenet-v2_8xb256_imagenet/latest.pth
# (several GPUs: torchrun --nproc_per_node 8 tools/search.py ... \
#  --launcher pytorch)
_base_ = ['./autoslim-supernet_mobilenet-v2_8xb256_imagenet.py']
algorithm = dict(distiller=None, input_shape=(3, 224, 224))
searcher = dict(
    type='GreedySearcher',
    # fractions of the supernet's 703 MFLOPs kept: 500, 300, 200 MFLOPs
    budget=dict(flops=[0.7114, 0.4268, 0.2845]),
    max_channel_bins=12,
    metrics='accuracy',
    score_key='accuracy_top-1')
data = dict(samples_per_gpu=1024, workers_per_gpu=4)
