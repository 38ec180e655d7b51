"""Model attributes holding a pruned width that the forward reads, set
after export from the sliced layers."""
from torch import nn

from ..adapters import width_fixers


def _vit_width(m):
    m.hidden_dim = int(m.conv_proj.out_channels)


def _width_fixers():
    """``{class: fix(module)}``: models whose forward reads a pruned width
    from an attribute (torchvision's ViT reshapes its patches with
    ``hidden_dim``; the frameworks' models come from adapters/, e.g.
    mmcls's Swin, which views its outputs with ``num_features``)."""
    table = {}
    try:
        from torchvision.models import VisionTransformer
        table[VisionTransformer] = _vit_width
    except ImportError:  # pragma: no cover
        pass
    table.update(width_fixers())
    return table


def fix_width_attrs_(model: nn.Module) -> None:
    """After export: set the width attributes of ``_width_fixers`` from
    the sliced layers they follow."""
    table = _width_fixers()
    for m in model.modules():
        fix = table.get(type(m))
        if fix is not None:
            fix(m)
