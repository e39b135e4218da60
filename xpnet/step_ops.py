"""The small array operations of every training step, answered directly for NumPy arrays.

Each is the array namespace's own operation; for a NumPy array it is reached without the
Python work around it, which is most of what a small network's step costs beyond a
hand-written NumPy one:

- NumPy's ``sum``/``max``/``argmax``/``take`` functions, and array-api-compat's
  ``astype``, dispatch in Python before calling the array's method (0.2-1 us a call); the
  method runs the same code. ``sum`` and ``max`` are the ufuncs' ``reduce``, which the
  methods reach through one more Python function (in NumPy's ``_methods`` module).
- NumPy resolves the dtype of a Python number in every operation (NEP 50's "weak"
  scalars, about 0.3 us); :func:`scalar` hands it as a 0-d array of the array's dtype
  instead, which is what the number becomes either way, so the results are the same.

Other backends get the namespace's functions and the Python number, unchanged. And
:func:`float_limits` remembers ``finfo``'s numbers, a Python-level call of several
microseconds, per namespace and dtype.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .backend import array_namespace

Array = Any


# What ndarray.sum and ndarray.max call, reached directly.
_SUM, _MAX = np.add.reduce, np.maximum.reduce


def axis_sum(x: Array, axis: int) -> Array:
    """``xp.sum(x, axis=axis, keepdims=True)``."""
    if type(x) is np.ndarray:
        return _SUM(x, axis=axis, keepdims=True)
    return array_namespace(x).sum(x, axis=axis, keepdims=True)


def axis_max(x: Array, axis: int) -> Array:
    """``xp.max(x, axis=axis, keepdims=True)``."""
    if type(x) is np.ndarray:
        return _MAX(x, axis=axis, keepdims=True)
    return array_namespace(x).max(x, axis=axis, keepdims=True)


def total(x: Array) -> Array:
    """``xp.sum(x)``: the sum of every element."""
    if type(x) is np.ndarray:
        return _SUM(x, axis=None)
    return array_namespace(x).sum(x)


def argmax(x: Array, axis: int) -> Array:
    """``xp.argmax(x, axis=axis)``."""
    if type(x) is np.ndarray:
        return x.argmax(axis=axis)
    return array_namespace(x).argmax(x, axis=axis)


def take(x: Array, indices: Array, axis: int) -> Array:
    """``xp.take(x, indices, axis=axis)``."""
    if type(x) is np.ndarray:
        return x.take(indices, axis=axis)
    return array_namespace(x, indices).take(x, indices, axis=axis)


def astype(x: Array, dtype: Any) -> Array:
    """``xp.astype(x, dtype)``."""
    if type(x) is np.ndarray:
        return x.astype(dtype)
    return array_namespace(x).astype(x, dtype)


def zero(like: Array) -> Array | float:
    """``scalar(like, 0.0)``, made once per dtype: relu asks for it on every layer."""
    if type(like) is not np.ndarray:
        return 0.0
    known = _ZEROS.get(like.dtype)
    if known is None:
        known = scalar(like, 0.0)
        if type(known) is np.ndarray:
            known.flags.writeable = False  # one array, shared by every caller
        _ZEROS[like.dtype] = known
    return known


_ZEROS: dict[Any, Array] = {}


def scalar(like: Array, value: float) -> Array | float:
    """``value`` for arithmetic with the floating array ``like``: a 0-d array of its dtype
    for a NumPy array (the number rounded to that dtype, as NumPy does with a Python
    number), the number itself for every other library."""
    if type(like) is np.ndarray and like.dtype.kind == "f":
        return np.asarray(value, like.dtype)
    return value


def float_limits(xp: ModuleType, dtype: Any) -> tuple[float, float]:
    """``(eps, max)`` of ``xp.finfo(dtype)`` as Python floats, remembered per namespace and dtype."""
    # Keyed by both: some libraries' dtypes hash as NumPy's do but must not be compared with them.
    key = (xp, dtype)
    try:
        return _LIMITS[key]
    except KeyError:
        limits = _LIMITS[key] = _finfo_limits(xp, dtype)
    except TypeError:  # a dtype that cannot be hashed: asked every time
        limits = _finfo_limits(xp, dtype)
    return limits


def _finfo_limits(xp: ModuleType, dtype: Any) -> tuple[float, float]:
    info = xp.finfo(dtype)
    return float(info.eps), float(info.max)


_LIMITS: dict[tuple[ModuleType, Any], tuple[float, float]] = {}
