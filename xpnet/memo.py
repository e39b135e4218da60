"""Door checks remembered per layout: what a check reads of its arguments, as a dict key.

The public step's checks read only metadata (the arrays' types, shapes and dtypes, a
dict's keys, names), never values, so arguments with the same metadata pass or fail
alike. Each check keeps its answers for the layouts that passed: a training loop that
calls the public functions with arrays of the same layout every step pays a dict lookup
instead of the check. A check that fails raises before anything is remembered.

A key is one flat tuple (no tuple per array: fewer objects to build and compare on
every call) holding the names a check reads and, for each array, its type, shape and
dtype in that order (the callers write the fields out: a helper function would cost a
call per array). The type comes before the dtype: two keys are compared item by item and
differ at the type first, so the dtypes of two libraries are never compared (NumPy's
against array-api-strict's warns).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
LIMIT = 64
"""Layouts kept per check; past it the check starts afresh (a loop uses a handful)."""


class Answers(dict):
    """One check's answers, per layout that passed; ``last`` the latest ``(layout, answer)``."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        super().__init__()
        self.last: tuple[tuple, Any] | None = None


def remembered(cache: Answers, key: tuple | None, check: Callable[..., T], *args: Any) -> T:
    """``check(*args)``'s answer (not None), kept in ``cache`` under ``key``, a tuple of
    everything ``check`` reads; ``key`` None, or one that cannot be hashed (a dtype of
    some library): checked every time. ``key`` is compared with the latest layout before
    it is hashed, so it must hold only values whose ``==`` agrees with their hash (str,
    numbers, types, dtypes, tuples of them): a caller passes None for anything else.
    (``check``'s arguments are passed rather than captured by a closure, which would make
    each local it captures a cell in the caller, on every call.)"""
    if key is not None:
        # The latest layout first: comparing with it costs half a lookup (which hashes
        # the whole key, then compares it), and a training loop repeats its layout.
        last = cache.last
        if last is not None and last[0] == key:
            return last[1]
        try:
            known = cache.get(key)
        except TypeError:
            return check(*args)
        if known is None:
            known = check(*args)
            if len(cache) >= LIMIT:
                cache.clear()
            cache[key] = known
        cache.last = (key, known)
        return known
    return check(*args)
