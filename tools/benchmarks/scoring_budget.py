"""How many batches OneShot's defaults need: ``num_batches`` (training
batches a feature metric sees) and ``recalibrate_bn`` (batches that
re-estimate BatchNorm statistics after pruning), on the main job's trained
ResNet-20 and config (CDP, global ranking, FLOPs target).

1. For each ``num_batches`` and seed, the subnet chosen at each FLOPs
   target is compared with the one chosen from every training batch (the
   whole training set, seed 0): the share of kept channels in common
   (intersection over union) and its BN-recalibrated val top-1.
2. For each ``recalibrate_bn`` and seed, the val top-1 of the default
   subnet (``num_batches`` of the config) after recalibration on that many
   batches (0: the unpruned network's statistics).

    python tools/benchmarks/scoring_budget.py --seeds 0 1 2
"""
import argparse
import contextlib
import copy
import io
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs/one_shot/'
                  'one-shot-cdp_cifar-resnet20_1xb64_digits.py')
# oneshot_quality.py beside this file (the script's folder is first on
# sys.path): table format and start-up
import oneshot_quality as ONESHOT  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--pretrained', default=osp.join(
        ROOT, 'work_dirs/cifar-resnet20_1xb64_digits/epoch_10.pth'),
        help='trained ResNet-20 (scripts/main_job.sh makes it)')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--targets', type=float, nargs='+', default=[0.5, 0.75],
                   help='fractions of FLOPs removed')
    p.add_argument('--num-batches', type=int, nargs='+',
                   default=[1, 2, 5, 10, 20])
    p.add_argument('--recalibrate-bn', type=int, nargs='+',
                   default=[0, 1, 2, 5, 10, 20])
    return p.parse_args()


def build(args, seed):
    """The main job's OneShot algorithm with ``pretrained`` loaded."""
    from mmrazor_ext.apis import build_model, load_config
    cfg = load_config(CONFIG)
    cfg.algorithm.pretrained = args.pretrained
    cfg.algorithm.seed = seed
    with contextlib.redirect_stdout(io.StringIO()):
        algo = build_model(cfg)
    return algo, cfg


def recalibrated_top1(algo, state, subnet, batches):
    """Val top-1 of ``subnet`` after BN recalibration on ``batches``."""
    from mmrazor_ext.adapters import build_loader
    from mmrazor_ext.engine import recalibrate_bn
    model = algo.architecture.model
    model.load_state_dict(state)
    algo.apply_subnet(subnet)
    if batches:
        algo.seeded(recalibrate_bn, model,
                    build_loader(algo.data, 'train', algo.seed), batches)
    top1 = algo.evaluate_val()['top-1']
    algo.apply_subnet({})
    model.load_state_dict(state)
    return top1


def iou(a, b):
    kept_a = {(n, i) for n, idx in a.items() for i in idx}
    kept_b = {(n, i) for n, idx in b.items() for i in idx}
    return len(kept_a & kept_b) / len(kept_a | kept_b)


fmt = ONESHOT.mean_std


def main():
    args = parse_args()
    ONESHOT.start(args, 'scoring_budget.py', results_file=False)
    algo, cfg = build(args, 0)
    algo.init_weights()
    state = copy.deepcopy(algo.architecture.model.state_dict())
    pruner, default_n = algo.pruner, algo.num_batches
    from mmcls.datasets import build_dataset
    every = -(-len(build_dataset(cfg.data.train)) //
              cfg.data.samples_per_gpu)  # the whole training set

    def subnets(num_batches, seed):
        algo.num_batches, algo.seed = num_batches, seed
        scores = algo.scores()
        return {t: pruner.sample_subnet_flops(t, scores, mode=algo.mode)
                for t in args.targets}
    reference = subnets(every, 0)
    print(f'{every} training batches = the whole training set; recalibration '
          f'of the scoring table: {algo.recalibrate_bn} batches', flush=True)
    print('\n| num_batches | FLOPs removed | kept channels in common with '
          'all batches (IoU) | + BN recalibration top-1 |\n|---|---|---|---|')
    for n in args.num_batches + [every]:
        rows = {t: ([], []) for t in args.targets}
        for seed in args.seeds:
            subs = subnets(n, seed)
            for t in args.targets:
                rows[t][0].append(iou(subs[t], reference[t]))
                algo.seed = seed
                rows[t][1].append(recalibrated_top1(
                    algo, state, subs[t], cfg.algorithm.recalibrate_bn))
        for t in args.targets:
            print(f'| {n} | {t:.0%} | {fmt(rows[t][0])} | '
                  f'{fmt(rows[t][1])} |', flush=True)
    print('\n| recalibrate_bn | FLOPs removed | + BN recalibration top-1 |'
          '\n|---|---|---|')
    defaults = {seed: subnets(default_n, seed) for seed in args.seeds}
    for b in args.recalibrate_bn + [every]:
        for t in args.targets:
            vals = []
            for seed in args.seeds:
                algo.seed = seed
                vals.append(recalibrated_top1(algo, state, defaults[seed][t],
                                              b))
            print(f'| {b} | {t:.0%} | {fmt(vals)} |', flush=True)


if __name__ == '__main__':
    main()
