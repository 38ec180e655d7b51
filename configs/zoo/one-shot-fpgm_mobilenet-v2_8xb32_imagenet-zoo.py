# OneShot from the OpenMMLab model zoo's ImageNet MobileNetV2 (mmcls 0.25,
# 71.86 top-1): 30% of its FLOPs removed by FPGM, fine-tuned 20 epochs:
#   tools/dist_train.sh 8 <this config>       Data root: $IMAGENET_ROOT
_base_ = ['../one_shot/one-shot-fpgm_mobilenet-v2_8xb32_imagenet.py']
algorithm = dict(pretrained='https://download.openmmlab.com/'
                 'mmclassification/v0/mobilenet_v2/'
                 'mobilenet_v2_batch256_imagenet_20200708-3b2dc3af.pth')
