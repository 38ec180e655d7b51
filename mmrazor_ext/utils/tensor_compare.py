"""Output comparisons with relative, not absolute, tolerances.

Randomly initialised networks give outputs anywhere from 1e-3 (a head
initialised near zero) to 1e6 (InceptionV3): an absolute tolerance says
nothing at one end and fails at the other. The error here is the largest
difference over the largest magnitude of the reference.
"""
import math
from typing import List

import torch
from torch import Tensor


def output_tensors(out) -> List[Tensor]:
    """The tensors of a model output (a tensor, or nested lists, tuples and
    dicts of them), in order."""
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in output_tensors(o)]
    return []


def relative_error(actual, expected) -> float:
    """``max |actual - expected| / max |expected|`` over the tensors of two
    outputs (see :func:`output_tensors`), computed in float64.

    Returns:
        The largest such ratio over the tensor pairs: 0.0 when equal,
        ``inf`` when the outputs differ in structure or shape or hold a
        non-finite value where the other does not. An all-zero reference
        divides by 1 (the error is then absolute).

    Examples:
        >>> relative_error(torch.tensor([1e6, 2.]), torch.tensor([1e6, 1.]))
        1e-06
    """
    a, b = output_tensors(actual), output_tensors(expected)
    if len(a) != len(b):
        return math.inf
    worst = 0.0
    for x, y in zip(a, b):
        if x.shape != y.shape:
            return math.inf
        if x.numel() == 0:
            continue
        x, y = x.detach().double(), y.detach().to(x.device).double()
        if not bool((torch.isfinite(x) == torch.isfinite(y)).all()):
            return math.inf
        fin = torch.isfinite(y)
        if not bool((x[~fin] == y[~fin]).all()):
            return math.inf
        if not bool(fin.any()):
            continue
        diff = float((x[fin] - y[fin]).abs().max())
        scale = float(y[fin].abs().max())
        worst = max(worst, diff / (scale if scale > 0 else 1.0))
    return worst


def assert_close(actual, expected, rtol: float = 1e-4) -> None:
    """Raise ``AssertionError`` (with the error) unless
    ``relative_error(actual, expected) <= rtol``."""
    err = relative_error(actual, expected)
    if not err <= rtol:
        raise AssertionError(f'relative error {err:.3g} > {rtol:g}')
