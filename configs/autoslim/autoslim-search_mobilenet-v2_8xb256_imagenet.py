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
    target_flops=[500e6, 300e6, 200e6],
    max_channel_bins=12,
    metrics='accuracy',
    score_key='accuracy_top-1')
data = dict(samples_per_gpu=1024, workers_per_gpu=4)
