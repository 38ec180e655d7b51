# HybridSearch over widths and depth together under a measured-latency
# budget, on the embedded digits with ResNet-20:
# 1. search (tools/search.py): NSGA-II over a keep ratio for each channel
#    space (0.125 ... 1.0) and keep / remove for each of Fusion's
#    removable residual blocks, at most 50% of the unpruned model's
#    latency on ONNX Runtime (1 thread, batch 1), predicted by a per-layer
#    lookup table measured once on this machine (cached beside the
#    checkpoint, checked on 20 random candidates); the front is accuracy
#    against predicted latency. The JSON goes beside the checkpoint, with
#    the uniform / diff / blocks references at the same MEASURED latency.
#      python tools/search.py <this config> \
#          work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth
# 2. train the found subnet (tools/train.py), blocks removed and widths
#    pruned physically; the report shows the latency the search predicted
#    and the one measured on the trained model:
#      python tools/train.py <this config> --cfg-options \
#          algorithm.search_json=<the JSON search.py wrote>
# scripts/hybrid_search/run_hybrid_cifar_resnet18.sh
# test_search_geatpy_latency_inference runs the search.
_base_ = ['./hybrid-search-sega_cifar-resnet20_1xb64_digits.py']
# widths in steps of 16 channels (what ONNX Runtime runs fast, see
# docs/deploy.md); spaces of 16 channels stay whole
algorithm = dict(pruner=dict(divisor=16))
searcher = dict(
    ea_algorithm='NSGA2',  # accuracy against predicted latency
    budget=dict(_delete_=True, latency=0.5),  # fraction of the latency kept
    blocks=True,  # keep / remove each removable residual block too
    latency=dict(runtime='onnxruntime', threads=1, batch=1),
    keep_ratios=[0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0])
custom_hooks = [dict(type='HybridSearchHook', latency_batch_sizes=(1, 64))]
