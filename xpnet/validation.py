"""Checks of user input, made once at the door of the public functions.

Messages name the argument, say what was expected and what was given, and how to
fix it. Checks of *values* (NaN, label ranges) read a result back from the
device, so they run where data enters (``train``, ``predict``), never per step.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

from .backend import (asarray, default_float_dtype, dtype_name, get_backend, is_host_data,
                      namespace_of, resolve_backend, resolve_dtype)
from .losses import one_hot_hint

Array = Any


def check_layer_dims(layer_dims: Sequence[int]) -> list[int]:
    """``layer_dims`` as a list of at least two positive ints."""
    if isinstance(layer_dims, (str, bytes)) or not isinstance(layer_dims, Sequence):
        raise TypeError("layer_dims must be a sequence of layer sizes such as [2, 4, 1], "
                        f"not {type(layer_dims).__name__}")
    if len(layer_dims) < 2:
        raise ValueError(f"layer_dims must list at least 2 layer sizes (inputs and outputs), "
                         f"got {list(layer_dims)}")
    for i, n in enumerate(layer_dims):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"layer_dims[{i}] must be a positive int, got {n!r}")
    return [int(n) for n in layer_dims]


def make_named(spec: Any, table: Mapping[str, Callable[[], Any]], base: type, argument: str,
               example: str) -> Any:
    """``spec`` itself if it is a ``base`` instance, else ``table[spec]()``; the error lists the names."""
    if isinstance(spec, base):
        return spec
    if isinstance(spec, str) and spec in table:
        return table[spec]()
    raise ValueError(f"unknown {argument} {spec!r}; valid names are {', '.join(table)}, "
                     f"or pass an instance such as {example}")


def check_count(value: Any, argument: str, minimum: int = 0) -> int:
    """An int (NumPy ints too, never a bool) of at least ``minimum``, as a Python int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{argument} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{argument} must be an int >= {minimum}, got {value}")
    return int(value)


def check_fraction(value: Any, argument: str, allow_zero: bool = True) -> float:
    """A number in [0, 1) (or (0, 1) without ``allow_zero``), as a Python float."""
    bounds = "[0, 1)" if allow_zero else "(0, 1)"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or not (0 <= value < 1) or (value == 0 and not allow_zero):
        raise ValueError(f"{argument} must be a number in {bounds}, got {value!r}")
    return float(value)


def check_non_negative(value: Any, argument: str) -> float:
    """A finite Python float >= 0."""
    if type(value) is float and 0 < value < math.inf:  # the common case, first
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{argument} must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{argument} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_positive(value: Any, argument: str) -> float:
    """A finite, positive Python float (a Python scalar never changes an array's dtype)."""
    if type(value) is float and 0 < value < math.inf:  # the common case, first
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{argument} must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{argument} must be a finite number > 0, got {value!r}")
    return float(value)


def float_dtype(xp: ModuleType, dtype: Any, argument: str = "dtype") -> Any:
    """``xp``'s real floating dtype for ``dtype`` (a name or any dtype object)."""
    resolved = resolve_dtype(xp, dtype)
    if not xp.isdtype(resolved, "real floating"):
        raise TypeError(f"{argument} must be a real floating dtype such as 'float32' or "
                        f"'float64', got {dtype!r}")
    return resolved


def working_dtype(xp: ModuleType, data_dtype: Any, requested: Any = None) -> Any:
    """The floating dtype to compute in: ``requested`` if given, else the data's own
    float32/float64, else float64 (or the backend's default float where it has none)."""
    if requested is not None:
        return float_dtype(xp, requested)
    # Keep the floating dtype the user chose; anything else (ints, lists, float16) gets the default.
    given = dtype_name(data_dtype) if data_dtype is not None else None
    if given in ("float32", "float64") and given in xp.__array_namespace_info__().dtypes():
        return resolve_dtype(xp, given)
    return default_float_dtype(xp)


def check_input(X: Array, n_features: int, xp: ModuleType, name: str = "X") -> None:
    """``X`` is a 2-D real floating array with ``n_features`` rows."""
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, shaped (n_features, n_samples); got shape "
                         f"{tuple(X.shape)} (for a single sample or feature, reshape it to 2-D)")
    if X.shape[0] != n_features:
        raise ValueError(f"{name} has {X.shape[0]} rows (features) but the network expects "
                         f"{n_features} (layer_dims[0]); {name} must be shaped (n_features, n_samples)")
    if not xp.isdtype(X.dtype, "real floating"):
        raise TypeError(f"{name} has dtype {X.dtype}; the network needs a real floating dtype: "
                        f"convert it, e.g. xpnet.asarray({name}, dtype='float64')")


def to_backend(data: Any, xp: ModuleType, dtype: Any, name: str) -> Array:
    """``asarray(data, xp, dtype)``, with an error naming ``name`` for data that is not numbers."""
    try:
        return asarray(data, xp, dtype)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name} is not a rectangular array of real numbers ({exc}); pass an "
                        "array, or equal-length lists, of numbers") from exc


def check_finite(A: Array, argument: str) -> None:
    xp = namespace_of(**{argument: A})
    if not bool(xp.all(xp.isfinite(A))):
        raise ValueError(f"{argument} contains NaN or inf; remove or impute those values first")


def check_finite_cast(converted: Array, original: Array, name: str) -> None:
    """``converted`` (``original`` in the model's dtype) is finite; says why when it is not."""
    xp = namespace_of(**{name: converted})
    if bool(xp.all(xp.isfinite(converted))):
        return
    try:
        source = namespace_of(**{name: original})
    except TypeError:  # lists: only the converted array says what they held
        source = None
    if source is not None and source.isdtype(original.dtype, "real floating") \
            and bool(source.all(source.isfinite(original))):
        raise ValueError(f"{name} holds values beyond the range of {dtype_name(converted.dtype)}, "
                         f"the model's dtype; scale {name} or use dtype='float64'")
    check_finite(converted, name)


def data_namespace(X: Any, Y: Any, backend: Any) -> ModuleType:
    """Where the data goes: ``backend`` if given, else where device arrays among ``X``/``Y``
    already are, else the selected backend (host data: lists and NumPy arrays)."""
    if backend is not None:
        return resolve_backend(backend)
    arrays = {name: a for name, a in (("X", X), ("Y", Y)) if not is_host_data(a)}
    return namespace_of(**arrays) if arrays else get_backend()


def prepare_data(X: Any, Y: Any, layer_dims: list[int], output: Any, backend: Any = None,
                 dtype: Any = None, names: tuple[str, str] = ("X", "Y")) -> tuple[Array, Array]:
    """``X`` and ``Y`` on one backend, as floating arrays of the right shapes, validated.

    ``output`` is the :class:`~xpnet.outputs.Output` whose targets ``Y`` must be;
    ``names`` are the arguments' names in error messages.
    """
    x_name, y_name = names
    xp = data_namespace(X, Y, backend)
    dtype = working_dtype(xp, getattr(X, "dtype", None), dtype)
    X, Y = to_backend(X, xp, dtype, x_name), to_backend(Y, xp, dtype, y_name)
    check_input(X, layer_dims[0], xp, x_name)
    if Y.ndim == 1 and layer_dims[-1] == 1:
        Y = xp.reshape(Y, (1, Y.shape[0]))
    if Y.ndim != 2 or Y.shape != (layer_dims[-1], X.shape[1]):
        raise ValueError(f"{y_name} has shape {tuple(Y.shape)} but must be (layer_dims[-1], n_samples)"
                         f" = ({layer_dims[-1]}, {X.shape[1]}), with as many samples (columns) as {x_name}"
                         + one_hot_hint(tuple(Y.shape), layer_dims[-1], y_name))
    if X.shape[1] == 0:
        raise ValueError(f"{x_name} has 0 samples (columns); training needs at least one")
    check_finite(X, x_name)
    output.check_targets(Y, y_name)
    return X, Y


def check_flag(value: Any, argument: str) -> bool:
    """``True`` or ``False`` (NumPy's bool too, say from a parameter grid), as a Python bool."""
    # NumPy's bool is recognised by name: this module makes no NumPy call.
    numpy_bool = type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")
    if not (isinstance(value, bool) or numpy_bool):
        raise TypeError(f"{argument} must be True or False, got {value!r}")
    return bool(value)


def check_split(fraction: Any, n_samples: int, argument: str, *, alternative: str = "") -> int:
    """How many of ``n_samples`` a validation split of ``fraction`` holds out (at least one,
    and one fewer than all). ``alternative`` is a further fix the message offers, such as
    ``"early_stopping=False"``."""
    fraction = check_fraction(fraction, argument, allow_zero=False)
    n_val = int(round(fraction * n_samples))
    if not 1 <= n_val < n_samples:
        fixes = f"more data, another {argument} or {alternative}" if alternative \
            else f"more data or another {argument}"
        raise ValueError(f"{argument}={fraction} of {n_samples} samples holds out {n_val} for "
                         f"validation, which needs at least one sample on each side; use {fixes}")
    return n_val
