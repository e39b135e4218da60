"""Backend-specific fast paths, each one optional: callers keep the generic array-API code.

A function here either does its job on the backend it was given (returning True, or
the result) or does nothing (returning False, or None), leaving the caller to run the
readable generic code. Every fast path is tested to give the generic path's numbers:
the elementwise kernels exactly, the matrix products up to rounding.
"""

from __future__ import annotations

import functools
from typing import Any

import array_api_compat

Array = Any


def add_product_into(target: Array, alpha: float, A: Array, B: Array, beta: float) -> bool:
    """``target = beta * target + alpha * (A @ B.T)`` in one GEMM, in place, where possible.

    On CuPy this is a single cuBLAS ``gemm`` writing into ``target``: a training step
    then needs no weight-sized gradient array at all (``dW`` is never formed) and
    reads the weights once instead of three times. Returns False, touching nothing,
    on every other backend (the array API has no matrix product into an existing
    array) or when the arrays do not suit (dtype, layout).
    """
    if _CUPY_TYPES.get(type(target)) is False:  # known not CuPy: answered without a call
        return False
    if not (_is_cupy(target) and _is_cupy(A) and _is_cupy(B)):
        return False
    if not (target.dtype == A.dtype == B.dtype and target.dtype.char in "fd"):
        return False
    if not (target.flags.c_contiguous or target.flags.f_contiguous):
        return False  # cuBLAS would work on a copy of the target: no memory saved
    import cupy
    import cupy.cublas  # only reached with CuPy arrays, so CuPy is installed

    # Strided operands would make CuPy copy the target too; a copy of an operand (the
    # size of a batch of activations) keeps the weight-sized target in place.
    A, B = (a if a.flags.c_contiguous or a.flags.f_contiguous else cupy.ascontiguousarray(a)
            for a in (A, B))
    cupy.cublas.gemm("N", "T", A, B, out=target, alpha=alpha, beta=beta)
    return True


def bias_relu_into(Z: Array, b: Array) -> bool:
    """``Z = relu(Z + b)`` in place, in one pass over ``Z``, where the backend has a kernel.

    On CuPy one elementwise kernel reads and writes ``Z`` once, where the generic code
    (an in-place bias add, then ``maximum``) passes over it twice and allocates the
    output. NaN stays NaN, as with ``maximum``. Returns False, touching nothing, on
    every other backend or when the arrays do not suit (dtype, shape).
    """
    if _CUPY_TYPES.get(type(Z)) is False:  # known not CuPy: answered without a call
        return False
    if not (_cupy_floats(Z, b) and Z.ndim == 2 and b.shape == (Z.shape[0], 1)):
        return False
    # (v > 0 || v != v): NaN is kept, as maximum(NaN, 0) keeps it.
    _cupy_kernel("xpnet_bias_relu", "T b", "T z",
                 "T v = z + b; z = (v > (T)0 || v != v) ? v : (T)0")(b, Z)
    return True


def relu_backward(dA: Array, A: Array, out: Array | None = None) -> Array | None:
    """``dA * (A > 0)`` in one pass where the backend has a kernel, else None.

    The result is a new array, or ``out`` (an array shaped and typed as ``dA``: ``dA``
    itself, each element read before it is written, or one that does not overlap it)
    where one is given.
    The generic code makes a mask, casts it and multiplies: three passes. The kernel
    multiplies by 0 where ``A <= 0`` rather than writing 0, so NaN and inf in ``dA``
    give the generic code's NaN there.
    """
    if _CUPY_TYPES.get(type(dA)) is False:  # known not CuPy: answered without a call
        return None
    if not (_cupy_floats(dA, A) and dA.shape == A.shape):
        return None
    if out is not None and not (_cupy_floats(dA, out) and out.shape == dA.shape):
        return None
    kernel = _cupy_kernel("xpnet_relu_backward", "T da, T a", "T dz",
                          "dz = a > (T)0 ? da : da * (T)0")
    return kernel(dA, A) if out is None else kernel(dA, A, out)


def add_scaled_into(target: Array, scale: float, g: Array) -> bool:
    """``target += scale * g`` in one in-place pass where the backend has a kernel.

    The generic update (``-lr * dW``, then ``W += ...``) allocates a weight-sized
    temporary and passes over the weights' size three times; the kernel reads ``W`` and
    ``dW`` once and writes ``W`` once. The product is rounded on its own before the sum
    (no fused multiply-add), so the numbers are the generic code's exactly. Returns
    False, touching nothing, on every other backend or when the arrays do not suit.
    """
    if _CUPY_TYPES.get(type(target)) is False:  # known not CuPy: answered without a call
        return False
    if not (_cupy_floats(target, g) and target.shape == g.shape):
        return False
    _cupy_kernel("xpnet_add_scaled", "T s, T g", "T w", "w = w + xpnet_mul_rn(s, g)",
                 _ROUNDED_PRODUCT)(target.dtype.type(scale), g, target)
    return True


# The compiler contracts a * b + c into one fused multiply-add, rounded once; the generic
# code rounds the product first. These intrinsics are never contracted.
_ROUNDED_PRODUCT = """
__device__ inline float xpnet_mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ inline double xpnet_mul_rn(double a, double b) { return __dmul_rn(a, b); }
"""


def _cupy_floats(a: Array, b: Array) -> bool:
    """Whether ``a`` and ``b`` are CuPy arrays of one float32 or float64 dtype."""
    return _is_cupy(a) and _is_cupy(b) and a.dtype == b.dtype and a.dtype.char in "fd"


# Whether a type is CuPy's array, per type seen; every fast path looks its first argument
# up here before anything else, since it is asked on every layer of every step.
_CUPY_TYPES: dict[type, bool] = {}


def _is_cupy(x: Array) -> bool:
    """``array_api_compat.is_cupy_array(x)``, remembered per type: whether a type is CuPy's
    array never changes, and the fast paths ask it several times per layer and step."""
    known = _CUPY_TYPES.get(type(x))
    if known is None:
        known = _CUPY_TYPES[type(x)] = array_api_compat.is_cupy_array(x)
    return known


@functools.cache
def _cupy_kernel(name: str, in_params: str, out_params: str, operation: str,
                 preamble: str = "") -> Any:
    """A CuPy elementwise kernel, made once per process (CuPy compiles it on first use)."""
    import cupy

    return cupy.ElementwiseKernel(in_params, out_params, operation, name, preamble=preamble)
