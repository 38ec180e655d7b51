# AutoSlim, stage 3 of 3: train one searched MobileNetV2 subnet from scratch
# (physically that narrow), 300 epochs:
#   tools/dist_train.sh 8 <this config> --cfg-options algorithm.channel_cfg=\
#       work_dirs/autoslim-search_mobilenet-v2_8xb256_imagenet/\
#       subnet_<FLOPs>.yaml
_base_ = ['./autoslim-supernet_mobilenet-v2_8xb256_imagenet.py']
algorithm = dict(
    distiller=None,
    retraining=True,
    bn_training_mode=False,
    channel_cfg='work_dirs/autoslim-search_mobilenet-v2_8xb256_imagenet/'
    'subnet.yaml')
runner = dict(max_epochs=300)
