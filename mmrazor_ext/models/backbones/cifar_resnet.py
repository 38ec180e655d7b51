import torch.nn as nn
from mmcls.models import BACKBONES
from mmcls.models.backbones.resnet import BasicBlock, ResNet
from mmcv.cnn import build_conv_layer, build_norm_layer

# depth -> blocks per stage of the three-stage CIFAR ResNets (He et al., 2016).
CIFAR_DEPTHS = {d: (BasicBlock, ((d - 2) // 6, ) * 3)
                for d in (20, 32, 44, 56, 110, 1202)}


@BACKBONES.register_module()
class CifarResNet(ResNet):
    """ResNet for 32x32 input.

    - CIFAR depths 20/32/44/56/110/1202: BasicBlocks in three stages with
      16/32/64 channels and a 16-channel 3x3 stem (ResNet-56 has about 0.85M
      parameters with its head).
    - ImageNet depths 18/34/50/101/152: the usual four stages, with a 3x3
      stride-1 stem and no max-pool so 32x32 input keeps its resolution.

    Shortcuts that change shape are 1x1 conv + BN (mmcls's ``ResNet``).
    mmcls's own ``ResNet_CIFAR`` is left as it is.

    Args:
        depth (int): One of ``CifarResNet.arch_settings``.
        out_indices (Sequence[int]): Stages to output; defaults to the last.
        **kwargs: Passed on to :class:`mmcls.models.ResNet`.

    Examples:
        >>> import torch
        >>> net = CifarResNet(depth=20)
        >>> [o.shape for o in net(torch.rand(1, 3, 32, 32))]
        [torch.Size([1, 64, 8, 8])]
    """

    arch_settings = {**ResNet.arch_settings, **CIFAR_DEPTHS}

    def __init__(self, depth, out_indices=None, deep_stem=False, **kwargs):
        if deep_stem:
            raise ValueError('CifarResNet has a single 3x3 stem conv; '
                             'deep_stem=True is not supported')
        if depth in CIFAR_DEPTHS:
            kwargs.setdefault('num_stages', 3)
            kwargs.setdefault('stem_channels', 16)
            kwargs.setdefault('base_channels', 16)
            kwargs.setdefault('strides', (1, 2, 2))
            kwargs.setdefault('dilations', (1, 1, 1))
        num_stages = kwargs.get('num_stages', 4)
        if out_indices is None:
            out_indices = (num_stages - 1, )
        super().__init__(depth, out_indices=out_indices, **kwargs)

    def _make_stem_layer(self, in_channels, base_channels):
        self.conv1 = build_conv_layer(
            self.conv_cfg, in_channels, base_channels, kernel_size=3,
            stride=1, padding=1, bias=False)
        self.norm1_name, norm1 = build_norm_layer(
            self.norm_cfg, base_channels, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.relu(self.norm1(self.conv1(x)))
        outs = []
        for i, layer_name in enumerate(self.res_layers):
            x = getattr(self, layer_name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
