# AutoSlim, stage 3 of 3: train the searched subnet (physically that narrow)
# from scratch. channel_cfg is one file the search wrote:
#   tools/train.py <this config> --cfg-options algorithm.channel_cfg=\
#       work_dirs/autoslim-search_cifar-resnet20_1xb64_digits/subnet_<FLOPs>.yaml
_base_ = ['./autoslim-supernet_cifar-resnet20_1xb64_digits.py']
algorithm = dict(
    retraining=True,
    channel_cfg='work_dirs/autoslim-search_cifar-resnet20_1xb64_digits/'
    'subnet.yaml',
    bn_training_mode=False)
