"""Params kept after a uniform L1 prune, per model, with masked == exported.

Prints one line per model: parameters of the exported model over those of
the unpruned one (``model.parameters()``), the relative max difference of
the exported output from the masked one, the prunable / all spaces and the
seconds spent. Not a test.

    OMP_NUM_THREADS=1 python tools/benchmarks/kept_params.py \
        [--ratio 0.5] tv:convnext_tiny mmcls:shufflenetv1 ...

``tv:NAME`` builds ``torchvision.models.NAME(weights=None)``;
``mmcls:NAME`` an entry of ``MMCLS_BACKBONES`` below.
"""
import argparse
import time
import warnings

import torch
import torchvision

import mmrazor_ext  # noqa: F401  (first: it stubs mmcv ops mmrazor imports)
from mmcls.models import build_classifier  # noqa: E402
from mmrazor.models.builder import build_pruner  # noqa: E402
from mmrazor_ext.adapters import trace_forward as default_forward
from mmrazor_ext.utils.tensor_compare import relative_error

# name -> (backbone cfg, head in_channels, input size, neck)
GAP = dict(type='GlobalAveragePooling')
MMCLS_BACKBONES = {
    'shufflenetv1': (dict(type='ShuffleNetV1', groups=3), 960, 32, GAP),
    'convnext_tiny': (dict(type='ConvNeXt', arch='tiny',
                           gap_before_final_norm=True), 768, 32, None),
    'vit_b16': (dict(type='VisionTransformer', arch='b', img_size=224,
                     patch_size=16), 768, 224, None),
    'deit_small': (dict(type='DistilledVisionTransformer', arch='deit-small',
                        img_size=224, patch_size=16), 384, 224, None),
    'swin_tiny': (dict(type='SwinTransformer', arch='tiny', img_size=224),
                  768, 224, GAP),
    'twins_pcpvt_small': (dict(type='PCPVT', arch='small'), 512, 224, GAP),
    't2t_vit_14': (dict(type='T2T_ViT', img_size=224), 384, 224, None),
    'tnt_s': (dict(type='TNT', arch='s', img_size=224), 384, 224, None),
    'regnetx_400mf': (dict(type='RegNet', arch='regnetx_400mf'), 384, 32,
                      GAP),
    'resnext50': (dict(type='ResNeXt', depth=50, groups=32,
                       width_per_group=4), 2048, 32, GAP),
    'van_b0': (dict(type='VAN', arch='b0'), 256, 64, GAP),
}
TV_SIZES = {'vit_b_16': 224, 'vit_b_32': 224, 'vit_l_16': 224,
            'swin_t': 224, 'swin_s': 224, 'swin_b': 224, 'swin_v2_t': 256,
            'swin_v2_s': 256, 'swin_v2_b': 256, 'maxvit_t': 224,
            'inception_v3': 299}


def build(name):
    src, n = name.split(':')
    if src == 'tv':
        size = TV_SIZES.get(n, 64)
        model = getattr(torchvision.models, n)(weights=None)
        for m in model.modules():  # ViT's head starts at zero: outputs 0
            if isinstance(m, torch.nn.Linear) and not m.weight.any():
                torch.nn.init.normal_(m.weight, std=0.02)
        return model, (3, size, size)
    bb, cin, size, neck = MMCLS_BACKBONES[n]
    head = dict(type='LinearClsHead', num_classes=1000, in_channels=cin)
    if 'Distilled' in bb['type']:
        head['type'] = 'DeiTClsHead'
    elif bb['type'] in ('VisionTransformer', 'T2T_ViT'):
        head['type'] = 'VisionTransformerClsHead'
    return build_classifier(dict(type='ImageClassifier', backbone=bb,
                                 neck=neck, head=head)), (3, size, size)


def measure(name, ratio):
    torch.manual_seed(0)
    model, shape = build(name)
    model.eval()
    t = time.perf_counter()
    pruner = build_pruner(dict(type='ChannelPruner', input_shape=shape))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        pruner.prepare_from_supernet(model)
    sub = pruner.sample_subnet_uniform(ratio,
                                       pruner.get_metric_local('L1Metric'))
    pruner.set_subnet(sub)
    small = pruner.export().eval()
    dt = time.perf_counter() - t
    x = torch.randn(2, *shape)
    with torch.no_grad():
        ym, ys = default_forward(model, x), default_forward(small, x)
    err = relative_error(ys, ym)
    full = sum(p.numel() for p in model.parameters())
    kept = sum(p.numel() for p in small.parameters())
    whole = sum(sp.reason.startswith('the exported model')
                for sp in pruner.channel_spaces)
    print(f'{name:28s} kept {kept / full:.3f} ({kept / 1e6:.1f}M / '
          f'{full / 1e6:.1f}M)  rel.err {err:.1e}  spaces '
          f'{len(pruner.prunable_spaces)}/{len(pruner.channel_spaces)} '
          f'({whole} kept whole by the export check)  {dt:.1f} s',
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('models', nargs='+')
    ap.add_argument('--ratio', type=float, default=0.5)
    args = ap.parse_args()
    for name in args.models:
        try:
            measure(name, args.ratio)
        except Exception as e:  # report and go on with the next model
            print(f'{name:28s} FAILED {type(e).__name__}: {e}', flush=True)


if __name__ == '__main__':
    main()
