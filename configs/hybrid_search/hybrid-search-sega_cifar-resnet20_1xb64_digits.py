# HybridSearch on the embedded digits, both stages in one config:
# 1. search (tools/search.py): geatpy SEGA over the keep ratio of each of
#    ResNet-20's 12 channel spaces (0.1 ... 1.0), channels ranked by CDP,
#    at most 50% of the FLOPs; candidates scored on 256 held-out training
#    images after BN recalibration. The JSON goes beside the checkpoint.
#      python tools/search.py <this config> \
#          work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth
# 2. train the found subnet (tools/train.py), physically pruned:
#      python tools/train.py <this config> --cfg-options \
#          algorithm.search_json=<the JSON search.py wrote>
# scripts/hybrid_search/run_hybrid_cifar_resnet18.sh runs both.
_base_ = ['../resnet/cifar-resnet20_1xb64_digits.py']
algorithm = dict(
    type='HybridSearch',
    search_json=None,  # train stage: the search's JSON
    pretrained=None,  # None: the checkpoint the JSON was searched from
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    # widths in steps of 8, not the default 16: ResNet-20's 16-channel
    # spaces would be kept whole, and the search's best subnet at 50% of
    # the FLOPs scored 44.0 +- 10.6 (seeds 0-2) against 73.4 +- 12.3 with 8
    # (docs/hybrid_search.md); the latency search keeps 16
    pruner=dict(type='ChannelPruner', input_shape=(3, 32, 32), divisor=8),
    recalibrate_bn=10)  # BN statistics of the pruned model, 10 batches
searcher = dict(
    type='GeatpySearcher',
    ea_algorithm='SEGA',  # 'SEGA', 'DE' (DE/rand/1/bin) or 'NSGA2'
    budget=dict(flops=0.5),  # fraction of the unpruned FLOPs kept
    keep_ratios=[round(0.1 + 0.05 * i, 2) for i in range(19)],
    population=16,
    generations=8,  # the initial population included
    seed=0,
    metric=dict(type='CDPMetric', num_classes=10),
    num_batches=4,  # training batches CDP sees
    search_split=dict(num_images=256),  # held out of the training set
    recalibrate_bn=2,  # BN recalibration batches per candidate
    json_name=None)  # None: <checkpoint>_hybrid-search_<EA>_<budget>.json
custom_hooks = [dict(type='PruningHook', report='hybrid_search_report.json',
                     latency_batch_sizes=(1, 64))]
# training of the found subnet
optimizer = dict(lr=2e-3)
lr_config = dict(_delete_=True, policy='CosineAnnealing', min_lr=0)
runner = dict(max_epochs=8)
