"""A deep copy of a module tree, as ``copy.deepcopy(model, memo)`` makes
it, without its generic machinery per object.

``copy.deepcopy`` reduces every module and every hook dictionary through
``__reduce_ex__`` and rebuilds it (most of an export's time on small
nets). :func:`copy_module` creates each module of the tree, copies its
``__getstate__`` value by value (plain dictionaries, sets and tuples of
atoms directly, anything else through ``copy.deepcopy`` with the same
memo) and hands it to ``__setstate__``: the steps ``deepcopy`` takes for
a module, in the same order, so the copy is the same object graph. A
tree with a module that copies itself another way (``__deepcopy__``,
its own ``__reduce_ex__`` / ``__reduce__``, new-args, a container base,
a copyreg entry) is copied by ``copy.deepcopy`` itself.
"""
import copy
import copyreg
import types
from collections import OrderedDict
from typing import Dict

from torch import nn

_ATOMS = frozenset((type(None), int, float, bool, complex, str, bytes, type,
                    range, types.FunctionType, types.BuiltinFunctionType))
_BASES = (list, dict, set, tuple)


def _plain(m: nn.Module) -> bool:
    """Whether ``deepcopy`` copies ``m`` by ``__reduce_ex__(4)`` of
    ``object``: new object, then ``__setstate__(deepcopy(state))``."""
    cls = type(m)
    return (getattr(m, '__deepcopy__', None) is None
            and cls not in copyreg.dispatch_table
            and cls.__reduce_ex__ is object.__reduce_ex__
            and cls.__reduce__ is object.__reduce__
            and not hasattr(cls, '__getnewargs_ex__')
            and not hasattr(cls, '__getnewargs__')
            and not issubclass(cls, _BASES))


def _value(v, memo: Dict):
    """``copy.deepcopy(v, memo)``, directly for the common plain values
    (the originals stay alive in the model, so ``deepcopy``'s keep-alive
    list is not needed for them)."""
    t = type(v)
    if t in _ATOMS:
        return v
    got = memo.get(id(v))
    if got is not None:
        return got
    if (t is dict or t is OrderedDict) and _ATOMS.issuperset(map(type, v)):
        y = memo[id(v)] = t()
        for k, x in v.items():
            if type(x) not in _ATOMS:  # a tensor or module of the memo
                c = memo.get(id(x))
                x = c if c is not None else _value(x, memo)
            y[k] = x
        return y
    if t is tuple and _ATOMS.issuperset(map(type, v)):
        return v
    if t is set and _ATOMS.issuperset(map(type, v)):
        y = memo[id(v)] = set(v)
        return y
    return copy.deepcopy(v, memo)


def copy_module(model: nn.Module, memo: Dict) -> nn.Module:
    """``copy.deepcopy(model, memo)`` (e.g. with ``memo`` mapping the
    tensors to themselves, to share them)."""
    modules = list(model.modules())
    if id(model) in memo or not all(_plain(m) for m in modules):
        return copy.deepcopy(model, memo)
    states = [m.__getstate__() for m in modules]
    if any(type(s) is not dict for s in states):
        return copy.deepcopy(model, memo)
    keep = memo.setdefault(id(memo), [])
    for m in modules:
        memo[id(m)] = type(m).__new__(type(m))
        keep.append(m)
    for m, state in zip(modules, states):
        new = memo[id(m)]
        new.__setstate__({k: v if type(v) in _ATOMS else _value(v, memo)
                          for k, v in state.items()})
    return memo[id(model)]
