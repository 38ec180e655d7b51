# HybridSearch of CIFAR ResNet-18 on CIFAR-10 (data root $CIFAR10_ROOT):
# SEGA over the keep ratio of each channel space at most 50% of the FLOPs
# (CDP ranking), then 40 epochs of training of the found subnet.
#   python tools/search.py <this config> CHECKPOINT
#   python tools/train.py <this config> --cfg-options \
#       algorithm.search_json=<the JSON search.py wrote beside CHECKPOINT>
_base_ = ['./cifar-resnet18_1xb128_cifar10.py']
algorithm = dict(
    type='HybridSearch',
    search_json=None,
    pretrained=None,  # None: the checkpoint the JSON was searched from
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='ChannelPruner', input_shape=(3, 32, 32)),
    recalibrate_bn=20)
searcher = dict(
    type='GeatpySearcher',
    ea_algorithm='SEGA',
    budget=dict(flops=0.5),
    keep_ratios=[round(0.1 + 0.05 * i, 2) for i in range(19)],
    population=32,
    generations=20,
    seed=0,
    metric=dict(type='CDPMetric', num_classes=10),
    num_batches=10,
    search_split=dict(num_images=2000),
    recalibrate_bn=5,
    batch_size=128,
    eval_batch_size=250,
    json_name=None)
custom_hooks = [dict(type='PruningHook', report='hybrid_search_report.json',
                     latency_batch_sizes=(1, 128))]
optimizer = dict(lr=0.01)
lr_config = dict(warmup=None)
runner = dict(max_epochs=40)
