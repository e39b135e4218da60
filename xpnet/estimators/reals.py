"""Host and device data checked into real numbers: what the estimators take as ``X`` and ``y``;
and a fitted model moved to the dtype it is set to continue in."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import namespace_of
from ..validation import float_dtype

Array = Any


def host_reals(data: Any, name: str) -> np.ndarray:
    """Host data as a NumPy array of real numbers: float32/float64 kept, anything else float64."""
    try:
        array = np.asarray(data)
        if not np.iscomplexobj(array) and array.dtype not in (np.float32, np.float64):
            array = array.astype(np.float64)
    except (TypeError, ValueError) as exc:
        # The type is kept: scikit-learn's checks expect NumPy's TypeError for objects.
        raise type(exc)(f"{name} is not a rectangular array of real numbers ({exc}); pass an "
                        "array, or equal-length lists, of numbers") from exc
    if np.iscomplexobj(array):
        raise ValueError(f"Complex data not supported: {name} has dtype {array.dtype}; pass real "
                         f"numbers, e.g. the real part or the magnitude of {name}")
    return array


def device_reals(data: Array, name: str) -> Array:
    """Another library's array, refused unless it holds real numbers (bools, ints, floats)."""
    xp = namespace_of(**{name: data})
    if not xp.isdtype(data.dtype, ("bool", "integral", "real floating")):
        raise ValueError(f"Complex data not supported: {name} has dtype {data.dtype}; pass real "
                         f"numbers, e.g. the real part or the magnitude of {name}")
    return data


def follow_dtype(est: Any, xp: Any) -> None:
    """Before a fitted ``est`` trains on (``warm_start=True`` or ``partial_fit``): its weights
    and its optimizer's state cast to its ``dtype`` setting, where that was changed since
    (``dtype=None``: the model keeps the dtype it has)."""
    if est.dtype is None:
        return
    dtype = float_dtype(xp, est.dtype)
    if est.params_["W1"].dtype == dtype:
        return
    est.params_ = {key: xp.astype(value, dtype) for key, value in est.params_.items()}
    if getattr(est, "optimizer_", None) is not None:
        arrays, values = est.optimizer_.get_state()
        est.optimizer_.set_state({key: xp.astype(a, dtype) for key, a in arrays.items()}, values)
