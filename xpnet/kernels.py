"""Backend-specific fast paths, each one optional: callers keep the generic array-API code.

A function here either does its job on the backend it was given and returns True,
or does nothing and returns False, leaving the caller to run the readable generic
code. Every fast path is tested to give the generic path's numbers (up to rounding).
"""

from __future__ import annotations

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
    if not (array_api_compat.is_cupy_array(target) and array_api_compat.is_cupy_array(A)
            and array_api_compat.is_cupy_array(B)):
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
