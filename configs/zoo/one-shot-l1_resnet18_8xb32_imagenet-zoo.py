# OneShot from the OpenMMLab model zoo's ImageNet ResNet-18 (mmcls 0.25,
# 69.90 top-1): 30% of its FLOPs removed by L1 (global ranking, widths
# multiples of 8), fine-tuned 20 epochs. The checkpoint is downloaded once
# into torch's cache ($TORCH_HOME/hub/checkpoints):
#   tools/dist_train.sh 8 <this config>       Data root: $IMAGENET_ROOT
_base_ = ['../one_shot/one-shot-l1_resnet18_8xb32_imagenet.py']
algorithm = dict(pretrained='https://download.openmmlab.com/'
                 'mmclassification/v0/resnet/'
                 'resnet18_8xb32_in1k_20210831-fbbb1da6.pth')
