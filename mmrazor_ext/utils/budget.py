"""Budgets: how much of the unpruned model a result may keep.

One vocabulary in every algorithm (OneShot, Fusion and its channel step,
HybridSearch's searcher, AutoSlim's greedy search)::

    budget=dict(flops=0.5)      # at most half of the unpruned FLOPs KEPT

Each key names what it measures; each value is the amount KEPT, a
fraction in (0, 1] of the unpruned model's (``flops``, ``params``,
``latency``), or for Fusion a count (``blocks``: residual blocks kept).
Channel ratios (``ratio``, ``ratios``: fractions of channels removed, as
the pruner's ``sample_subnet_*`` take them) are not budgets.

Settings renamed to this vocabulary keep working for one release, with a
:class:`DeprecatedSettingWarning` that names the new key and value.
"""
import difflib
import warnings
from typing import Iterable, Optional

from .errors import UserInputError

#: What a budget may measure (fractions kept).
FRACTION_KINDS = ('flops', 'params', 'latency')


class DeprecatedSettingWarning(FutureWarning):
    """A setting was renamed; the old name works until the next release.
    (A ``FutureWarning``: shown by default, it is meant for users.)"""


def kept_from_removed(owner: str, key: str, value) -> float:
    """The fraction of FLOPs kept for a deprecated fraction-removed
    setting ``key=value``, checked as before (a number in [0, 1))."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not 0 <= value < 1:
        raise UserInputError(
            f'{owner} {key} must be in [0, 1) (fraction of FLOPs removed), '
            f'got {value!r} ({key} is deprecated: use budget=dict(flops=f), '
            'f the fraction of FLOPs kept)')
    return round(1 - float(value), 12)  # 1 - 0.7: 0.3, not 0.30000000000000004


def deprecated_budget(owner: str, old: str, new: dict,
                      budget: Optional[dict] = None,
                      new_key: str = 'budget') -> dict:
    """Warn that the setting ``old`` (as written, with its meaning) is
    deprecated for ``new_key=new``, and return ``new``: the old name wins
    over a ``budget`` also given (a config written for the old name may
    inherit a base written for the new one).

    Example: ``OneShot: flops_target=0.3 (FLOPs removed) is deprecated and
    will be removed in the next release; use budget=dict(flops=0.7) (FLOPs
    kept) instead``.
    """
    if not isinstance(new, dict):  # left to the budget check
        new_text, meaning = repr(new), 'kept'
    else:
        new_text = 'dict(' + ', '.join(f'{k}={v!r}' for k, v in
                                       new.items()) + ')'
        meaning = _meaning(new)
    over = f'; it overrides {new_key}={budget!r}' if budget is not None \
        else ''
    warnings.warn(
        f'{owner}: {old} is deprecated and will be removed in the next '
        f'release; use {new_key}={new_text} ({meaning}) instead{over}',
        DeprecatedSettingWarning, stacklevel=3)
    return dict(new) if isinstance(new, dict) else new


_NAMES = dict(flops='FLOPs', params='parameters', latency='latency',
              blocks='residual blocks')


def _meaning(budget: dict) -> str:
    return ', '.join(f'{_NAMES.get(k, k)} kept' for k in budget)


def check_budget(budget, owner: str, kinds: Iterable[str] = ('flops', ),
                 counts: Iterable[str] = (), one: bool = False,
                 many: bool = False, base: str = 'the unpruned model') -> dict:
    """``budget`` checked: a dict whose keys are among ``kinds``
    (fractions kept, in (0, 1]) and ``counts`` (ints >= 0).

    Args:
        budget: The setting as the config gives it.
        owner: Names the setting in the error (``'OneShot budget'``).
        kinds: Fraction keys this owner supports.
        counts: Count keys this owner supports (Fusion's ``blocks``).
        one: Exactly one key.
        many: Each value is a non-empty list (one result per entry).
        base: What the fractions are of, for the error.

    Returns:
        A plain dict copy (lists for ``many``).

    Raises:
        UserInputError: One line naming the key and the value.
    """
    kinds, counts = tuple(kinds), tuple(counts)
    known = kinds + counts
    if not isinstance(budget, dict) or not budget:
        example = f'dict({known[0]}={"[0.5]" if many else "0.5"})'
        raise UserInputError(f'{owner}={budget!r} must be a dict such as '
                             f'{example} (fraction of {base} kept)')
    for key in budget:
        if key not in known:
            why = 'is not supported here yet' if key in FRACTION_KINDS \
                else 'is unknown'
            close = difflib.get_close_matches(str(key).lower(), known, n=1)
            hint = f'; did you mean {close[0]!r}?' if close else ''
            raise UserInputError(f'{owner} key {key!r} {why} (supported: '
                                 f'{", ".join(known)}){hint}')
    if one and len(budget) != 1:
        raise UserInputError(f'{owner}={dict(budget)!r}: give exactly one '
                             f'of {", ".join(known)}')
    out = {}
    for key, value in budget.items():
        if many and (not isinstance(value, (list, tuple)) or not value):
            raise UserInputError(f'{owner} {key}={value!r} must be a list '
                                 f'of fractions of {base} kept, e.g. '
                                 '[0.75, 0.5]')
        for v in (value if many else [value]):
            if key in counts:
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise UserInputError(f'{owner} {key}={v!r} must be an '
                                         f'int >= 0 ({key} kept)')
            elif isinstance(v, bool) or not isinstance(v, (int, float)) \
                    or not 0 < v <= 1:
                raise UserInputError(f'{owner} {key}={v!r} must be in '
                                     f'(0, 1] (fraction of {base}\'s '
                                     f'{_NAMES.get(key, key)} kept)')
        out[key] = list(value) if many else value
    return out
