"""The masked output of attention modules that pass their projections'
weights to functions (torch's ``nn.MultiheadAttention``, torchvision's Swin
attention): hooks on the projections cannot mask them, so a forward hook
recomputes the module's output from its input with the masked weights,
q scaled by ``sqrt(head_dim / kept)`` where the softmax scale follows the
head width (see ``attention.py``)."""
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention_specs import attention_spec


def _q_scale(module, spec, keep: Tensor) -> float:
    if not spec.rescale:
        return 1.0
    heads = int(getattr(module, spec.heads))
    per, kept = keep.numel() // heads, int(keep.sum()) // heads
    return math.sqrt(per / max(1, kept))


def attention_output_hook(module, args, kwargs, out):
    """Forward hook of a functional attention module: its output with the
    pruned inner dims (and input / output channels) removed; a no-op while
    all are kept."""
    spec = attention_spec(module)
    proj = getattr(module, spec.proj)
    keep = proj.in_mask
    if bool(keep.all()):
        return None
    s = _q_scale(module, spec, keep)
    rows = torch.cat([keep * s, keep, keep])
    w_out = proj.weight * proj.out_mask[:, None] * keep[None, :]
    b_out = proj.bias * proj.out_mask if proj.bias is not None else None
    if isinstance(module, nn.MultiheadAttention):
        return _mha(module, args, kwargs, rows, keep, w_out, b_out)
    qkv = getattr(module, spec.qkv)
    w_in = qkv.weight * rows[:, None] * keep[None, :]
    b_in = qkv.bias * rows if qkv.bias is not None else None
    from torchvision.models.swin_transformer import shifted_window_attention
    extra = {}
    if hasattr(module, 'logit_scale'):
        extra['logit_scale'] = module.logit_scale
    return shifted_window_attention(
        args[0], w_in, w_out, module.get_relative_position_bias(),
        module.window_size, module.num_heads, shift_size=module.shift_size,
        attention_dropout=module.attention_dropout, dropout=module.dropout,
        qkv_bias=b_in, proj_bias=b_out, training=module.training, **extra)


_MHA_ARGS = ('query', 'key', 'value', 'key_padding_mask', 'need_weights',
             'attn_mask', 'average_attn_weights', 'is_causal')


def _mha(module, args, kwargs, rows, keep, w_out, b_out):
    a = dict(zip(_MHA_ARGS, args))
    a.update(kwargs)
    q = a['query']
    k, v = a.get('key', q), a.get('value', q)
    if module.batch_first:
        q, k, v = (t.transpose(1, 0) for t in (q, k, v))
    b_in = module.in_proj_bias * rows if module.in_proj_bias is not None \
        else None
    bias_k = module.bias_k * keep if module.bias_k is not None else None
    bias_v = module.bias_v * keep if module.bias_v is not None else None
    out, weights = F.multi_head_attention_forward(
        q, k, v, module.embed_dim, module.num_heads,
        module.in_proj_weight * rows[:, None] * keep[None, :], b_in,
        bias_k, bias_v, module.add_zero_attn, module.dropout, w_out, b_out,
        training=module.training,
        key_padding_mask=a.get('key_padding_mask'),
        need_weights=a.get('need_weights', True),
        attn_mask=a.get('attn_mask'),
        average_attn_weights=a.get('average_attn_weights', True),
        is_causal=a.get('is_causal', False))
    if module.batch_first:
        out = out.transpose(1, 0)
    return out, weights
