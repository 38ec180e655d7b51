"""Does a runtime compute what PyTorch computes? The largest absolute
difference of the outputs, relative to the largest output magnitude."""
from typing import List, Sequence

import numpy as np

#: Largest difference allowed, as a fraction of the output's max |value|.
TOLERANCE = 1e-4


def compare_outputs(reference: Sequence[np.ndarray],
                    outputs: Sequence[np.ndarray],
                    tolerance: float = TOLERANCE) -> dict:
    """``max |reference - outputs|`` over every output, and whether it is
    at most ``tolerance`` of ``max |reference|``.

    Returns:
        ``dict(max_abs_diff, output_max_abs, relative_diff, tolerance,
        equal)``; shapes that differ are unequal (``max_abs_diff`` inf).
    """
    reference, outputs = list(reference), list(outputs)
    scale = max((float(np.abs(r).max()) for r in reference if r.size),
                default=0.0)
    diff = 0.0
    if len(reference) != len(outputs) or any(
            np.shape(r) != np.shape(o) for r, o in zip(reference, outputs)):
        diff = float('inf')
    else:
        for r, o in zip(reference, outputs):
            if r.size:
                diff = max(diff, float(np.abs(r.astype(np.float64) -
                                              o.astype(np.float64)).max()))
    relative = diff / scale if scale > 0 else diff
    return dict(max_abs_diff=diff, output_max_abs=scale,
                relative_diff=relative, tolerance=tolerance,
                equal=bool(relative <= tolerance))


def describe(check: dict) -> str:
    """``'max |diff| 3.1e-06 = 2.0e-07 of max |output| (<= 1e-04)'``."""
    verdict = '<=' if check['equal'] else '>'
    return (f'max |diff| {check["max_abs_diff"]:.1e} = '
            f'{check["relative_diff"]:.1e} of max |output| {verdict} '
            f'{check["tolerance"]:.0e}')


def shapes(outputs: List[np.ndarray]) -> List[list]:
    return [list(np.shape(o)) for o in outputs]
