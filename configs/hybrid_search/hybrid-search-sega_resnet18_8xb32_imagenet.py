# HybridSearch of ResNet-18 on ImageNet-1k (folder layout, $IMAGENET_ROOT):
# SEGA over the keep ratio of each channel space (kept widths multiples of
# 8) at most 50% of the FLOPs, L1 ranking; candidates scored on 10,000
# held-out training images; then 20 epochs of training of the found subnet
# on 8 GPUs, physically pruned.
#   tools/dist_search.sh 8 <this config> CHECKPOINT
#   scripts/hybrid_search/run_hybrid_in1k_resnet18_train.sh 0,1,2,3,4,5,6,7 \
#       <the JSON search.py wrote beside CHECKPOINT> 8
_base_ = ['../resnet/resnet18_8xb32_imagenet.py']
algorithm = dict(
    type='HybridSearch',
    search_json=None,
    pretrained=None,  # None: the checkpoint the JSON was searched from
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 224, 224), divisor=8),
    recalibrate_bn=50)
searcher = dict(
    type='GeatpySearcher',
    ea_algorithm='SEGA',
    budget=dict(flops=0.5),
    keep_ratios=[round(0.1 + 0.05 * i, 2) for i in range(19)],
    population=32,
    generations=20,
    seed=0,
    metric=dict(type='L1Metric'),
    num_batches=10,
    search_split=dict(num_images=10000),
    recalibrate_bn=10,
    batch_size=64,
    eval_batch_size=250,
    json_name=None)
custom_hooks = [dict(type='PruningHook', report='hybrid_search_report.json',
                     latency_batch_sizes=(1, 32))]
optimizer = dict(lr=0.01)
lr_config = dict(_delete_=True, policy='CosineAnnealing', min_lr=0)
runner = dict(max_epochs=20)
