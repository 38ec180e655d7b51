# AutoSlim, stage 2 of 3: mmrazor's greedy search on the trained supernet.
# From the widest net, each step removes the channel bin (1/8 of a space)
# whose removal costs the least validation top-1, until the FLOPs are under
# each target; one channel_cfg per target is written to the work dir.
#   tools/search.py <this config> \
#       work_dirs/autoslim-supernet_cifar-resnet20_1xb64_digits/latest.pth
_base_ = ['./autoslim-supernet_cifar-resnet20_1xb64_digits.py']
searcher = dict(
    type='GreedySearcher',
    # fractions of the supernet's FLOPs kept (41.4 MFLOPs at 32x32, as
    # AutoSlim counts them): 29.8 and 19.9 MFLOPs
    budget=dict(flops=[0.72, 0.48]),
    max_channel_bins=8,  # with keep_ratios i/8: one bin = one width step
    metrics='accuracy',
    score_key='accuracy_top-1')
data = dict(samples_per_gpu=360)  # the 360 val images in one batch
