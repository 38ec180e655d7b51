"""Which attention classes the pruner knows, and how each is laid out
(see ``attention.py`` for how they are pruned)."""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from torch import nn

from ...adapters import attention_layouts
from ...compat.private_apis import mha_packs_qkv

# ``LayerRecord.norm_mode`` of an attention record whose q/k/v projection
# is the module's own packed ``in_proj_weight`` (``nn.MultiheadAttention``)
PACKED = 'packed_qkv'


@dataclass(frozen=True)
class AttentionSpec:
    """How one attention class is laid out.

    Attributes:
        qkv: child ``nn.Linear`` giving q, k, v (packed in that order); ''
            for ``nn.MultiheadAttention``'s ``in_proj_weight``.
        proj: child ``nn.Linear`` reading the concatenated heads.
        heads: attribute holding the number of heads.
        inner_attrs: attributes set to the kept inner width on export.
        head_attrs: attributes set to the kept width per head on export.
        functional: the forward passes the projections' weights to
            functions, so the masked output is recomputed by a hook.
        rescale: the forward's softmax scale follows the head width.
    """
    qkv: str
    proj: str
    heads: str
    inner_attrs: Tuple[str, ...] = ()
    head_attrs: Tuple[str, ...] = ()
    functional: bool = False
    rescale: bool = False
    # q alone in ``qkv`` and k, v packed in ``kv`` (mmcls Twins' global
    # attention), with an optional spatial-reduction conv ``sr`` and its
    # LayerNorm ``sr_norm`` on the way to ``kv``
    kv: str = ''
    sr: str = ''
    sr_norm: str = ''


def _specs() -> Dict[type, AttentionSpec]:
    specs = {nn.MultiheadAttention: AttentionSpec(
        '', 'out_proj', 'num_heads', ('embed_dim', 'kdim', 'vdim'),
        ('head_dim', ), functional=True, rescale=True)}
    try:
        from torchvision.models import maxvit, swin_transformer as sw
        specs[sw.ShiftedWindowAttention] = AttentionSpec(
            'qkv', 'proj', 'num_heads', functional=True, rescale=True)
        specs[sw.ShiftedWindowAttentionV2] = AttentionSpec(
            'qkv', 'proj', 'num_heads', functional=True)
        specs[maxvit.RelativePositionalMultiHeadAttention] = AttentionSpec(
            'to_qkv', 'merge', 'n_heads', (), ('head_dim', ))
    except ImportError:  # pragma: no cover
        pass
    # the frameworks' attentions (mmcls ViT, Swin, Twins...): adapters/
    for cls, layout in attention_layouts().items():
        specs[cls] = AttentionSpec(**layout)
    return specs


_SPECS: Optional[Dict[type, AttentionSpec]] = None


def _opaque() -> tuple:
    """Attention classes whose forward reads the head width from its input
    while its projections keep theirs: traced op by op, pruning their input
    would break the export, so their input channels are blocked."""
    return ()


_OPAQUE: Optional[tuple] = None


def is_opaque_attention(module: nn.Module) -> bool:
    """Whether ``module`` is an attention the pruner must leave whole: a
    class of ``_opaque``, or a subclass of a known attention class with
    its own forward."""
    global _OPAQUE, _SPECS
    if _OPAQUE is None:
        _OPAQUE = _opaque()
    if _SPECS is None:
        _SPECS = _specs()
    if type(module) in _SPECS:
        return False
    if isinstance(module, _OPAQUE):
        return True
    return any(isinstance(module, cls) and type(module).forward
               is not cls.forward for cls in _SPECS)


def attention_spec(module: nn.Module) -> Optional[AttentionSpec]:
    """The spec of ``module``'s class (exact class, stock forward), or
    None."""
    global _SPECS
    if _SPECS is None:
        _SPECS = _specs()
    spec = _SPECS.get(type(module))
    if spec is None:
        return None
    if isinstance(module, nn.MultiheadAttention) and (
            not mha_packs_qkv(module) or module.in_proj_weight is None
            or module.bias_k is not None):
        return None
    if getattr(module, 'v_shortcut', False):
        return None
    return spec
