"""Widths that fit the runtime: how a space's kept channel count is
rounded to the pruner's ``divisor``.

A space of ``n`` channels keeps a multiple of the divisor ``d``, or all
``n``: the options are ``d, 2d, ..., floor(n / d) * d`` and ``n``. A space
whose units are groups of channels (attention heads, a grouped conv's
groups) rounds its units so that their channels are a multiple of ``d``
(:func:`unit_divisor`). So a
space not wider than the divisor (``n <= d``) keeps all its channels: in
runtimes that block channels by 8 or 16 (ONNX Runtime's NCHWc layout:
8 on AVX2, 16 on AVX-512), fewer channels than a block run no faster,
and a width off the block size is slower than the unpruned one (it
leaves the blocked path). ``min_channels`` is rounded up to a multiple of
the divisor. ``divisor=1`` rounds to the nearest channel.

Keeping narrow spaces whole caps the FLOPs a model can lose (a CIFAR
ResNet's 16-channel first stage holds a third of them). With
``split_narrow`` a space narrower than twice the divisor rounds to the
divisor halved until it is at most half the width instead (under divisor
16 a 16-channel space keeps 8 or 16, a 24-channel one 8, 16 or 24);
``sample_subnet_flops`` turns it on, with a warning, only for a target it
cannot reach otherwise.

Rounding to the nearest option can keep more channels than asked; a
FLOPs target is met from below by :func:`widen_to_budget` instead (see
``SubnetSampler.sample_subnet_flops``).
"""
import math
from typing import Callable, Dict, List

#: ``ChannelPruner``'s default divisor: the fastest in ONNX Runtime of 1,
#: 8, 16 and 32 on ResNet-50, MobileNetV2 and the digits ResNet-20 (see
#: docs/deploy.md).
DEFAULT_DIVISOR = 16


def unit_divisor(divisor: int, channels_per_unit: int = 1) -> int:
    """The divisor in units of a space whose units hold
    ``channels_per_unit`` channels each (attention heads, the groups of a
    grouped conv): the fewest units whose channels are a multiple of
    ``divisor`` (16 for single channels, 1 for heads of 16 channels, 4
    for groups of 4)."""
    cpu = max(int(channels_per_unit), 1)
    d = max(int(divisor), 1)
    return d // math.gcd(d, cpu)


def _of(divisor, name) -> int:
    """``divisor[name]`` for per-space divisors, else ``divisor``."""
    return divisor[name] if isinstance(divisor, dict) else divisor


def space_divisor(n: int, divisor: int, split_narrow: bool = False) -> int:
    """The divisor a space of ``n`` channels rounds to: ``divisor``, or
    with ``split_narrow`` the divisor halved while it exceeds ``n / 2``."""
    d = max(int(divisor), 1)
    while split_narrow and d > 1 and 2 * d > n:
        d //= 2
    return d


def round_width(n: int, k: float, divisor: int = 1, min_channels: int = 1,
                split_narrow: bool = False) -> int:
    """The option nearest to ``k`` kept channels out of ``n`` (ties of a
    multiple go to the even multiple, as Python's ``round``), at least
    ``min_channels`` rounded up to the divisor, at most ``n``.

    Examples:
        >>> round_width(64, 30, 16), round_width(24, 10, 16)
        (32, 16)
        >>> round_width(16, 8, 16), round_width(16, 8, 16, split_narrow=True)
        (16, 8)
    """
    d = space_divisor(n, divisor, split_narrow)
    top = (n // d) * d
    floor = min(n, d * math.ceil(max(int(min_channels), 1) / d))
    m = max(int(round(k / d)) * d, d, floor)
    if m > top:
        return n
    if m == top and top < n and k - top > n - k:
        return n
    return m


def next_width(n: int, k: int, divisor: int = 1,
               split_narrow: bool = False) -> int:
    """The option after ``k`` (``n`` when ``k`` is the last multiple)."""
    d = space_divisor(n, divisor, split_narrow)
    return min(n, (k // d + 1) * d)


def widen_to_budget(counts: Dict[str, int], sizes: Dict[str, int],
                    divisor: int, cost: Callable[[Dict[str, int]], float],
                    budget: float, enough: float,
                    order: Callable[[Dict[str, int]], List[str]],
                    max_passes: int = 64,
                    split_narrow: bool = False) -> Dict[str, int]:
    """Give channels back, one divisor step of one space at a time, while
    the widths stay within the budget.

    Args:
        counts: Kept channels per space, within the budget.
        sizes: Channels per space.
        divisor: The divisor in units, one for all spaces or per space.
        cost: The FLOPs (or any cost rising with the widths) of widths.
        budget: The most ``cost`` may be.
        enough: Stop as soon as ``cost`` reaches this (<= ``budget``).
        order: The spaces to try widening first, given the widths now.
        max_passes: Passes over the spaces; a pass that widens nothing
            ends the search.
        split_narrow: See :func:`space_divisor`.

    Returns:
        Widths at least ``counts`` in every space, within ``budget``.
    """
    counts = dict(counts)
    for _ in range(max_passes):
        widened = False
        for name in order(counts):
            k = counts[name]
            if k >= sizes[name]:
                continue
            trial = dict(counts)
            trial[name] = next_width(sizes[name], k, _of(divisor, name),
                                     split_narrow)
            c = cost(trial)
            if c <= budget:
                counts, widened = trial, True
                if c >= enough:
                    return counts
        if not widened:
            break
    return counts
