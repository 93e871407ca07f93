"""Where a secret could outlive its use: an object-graph walk for the tests that check a
machine erased its nonces and ephemeral secrets (after an answer or an abort), and the
check that a secret-holding object refuses to be pickled or copied."""

from __future__ import annotations

import copy
import gc
import pickle
import types
from collections.abc import Callable
from functools import partial

import gmpy2
import pytest

from protocol.errors import UsageError
from protocol.group import Scalar

_INTEGERS = (int, type(gmpy2.mpz(0)))
_OPAQUE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.CodeType,
           types.FrameType)


def reachable(root) -> list:
    """Every object reachable from ``root`` through references (not through classes or modules)."""
    seen, stack, found = set(), [root], []
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _OPAQUE):
            continue
        seen.add(id(obj))
        found.append(obj)
        stack.extend(gc.get_referents(obj))
    return found


def holds_any(root, values: set[int], also: Callable[[object], bool] = lambda obj: False) -> list:
    """The objects reachable from ``root`` that are (or hold as a Scalar) one of ``values``,
    or for which ``also`` is true (a secret-holding object that must be gone)."""
    def secret(obj) -> bool:
        if isinstance(obj, Scalar):
            return obj.value in values
        if type(obj) in _INTEGERS:
            return obj in values
        return also(obj)
    return [obj for obj in reachable(root) if secret(obj)]


def assert_never_copied(obj, match: str | None = None) -> None:
    """``copy.copy``, ``copy.deepcopy`` and pickle (every protocol) of ``obj`` raise UsageError
    (matching ``match``)."""
    pickles = [partial(pickle.dumps, protocol=p) for p in range(pickle.HIGHEST_PROTOCOL + 1)]
    for copier in (copy.copy, copy.deepcopy, *pickles):
        with pytest.raises(UsageError, match=match):
            copier(obj)
