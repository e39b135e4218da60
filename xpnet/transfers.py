"""Arrays between libraries and devices: to NumPy, host copies, back to a device, row-major.

These are the conversions that must ask each library for what the array API standard
leaves open (memory layout, devices); ``xpnet.backend`` offers them with the rest.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np
from array_api_compat import array_namespace


def contiguous(x: Any) -> Any:
    """``x`` laid out row-major (C order): a copy when it is not, else ``x`` itself.

    The array API standard leaves memory layout to each library; this is the one
    place that asks NumPy, CuPy and PyTorch for it (others get a plain copy).
    """
    if array_api_compat.is_numpy_array(x):
        return np.ascontiguousarray(x)
    if array_api_compat.is_cupy_array(x):
        import cupy

        return cupy.ascontiguousarray(x)
    if array_api_compat.is_torch_array(x):
        return x.contiguous()
    return array_namespace(x).asarray(x, copy=True)


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy array with the values of ``x`` (any backend; copies from a GPU).

    NumPy input is returned as is, without a copy.
    """
    if array_api_compat.is_cupy_array(x):
        return x.get()
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def host_copy(x: Any) -> np.ndarray:
    """A NumPy copy of ``x`` in host memory, which later changes to ``x`` do not reach."""
    host = to_numpy(x)
    # A GPU array's host array is already a fresh copy, and one that shares an immutable
    # (JAX) array's memory can never change; a mutable CPU array's may share its memory.
    fresh = array_api_compat.is_cupy_array(x) or array_api_compat.is_jax_array(x) or (
        array_api_compat.is_torch_array(x) and x.device.type != "cpu")
    return host if fresh else np.array(host, copy=True)


def to_device_of(host: np.ndarray, like: Any) -> Any:
    """``host`` (NumPy) as an array of ``like``'s library, on ``like``'s device."""
    xp = array_namespace(like)
    return xp.asarray(host, device=array_api_compat.device(like))
