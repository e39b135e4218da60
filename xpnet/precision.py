"""Opt-in TF32: float32 matrix products on a CUDA GPU's tensor cores, at reduced precision.

TF32 keeps float32's range but rounds the *inputs* of each product to a 10-bit
mantissa (about 3 decimal digits, against float32's 7); sums stay in float32. On an
NVIDIA A100, H100 or later this makes large float32 products several times faster,
and each product's relative error grows from about 1e-7 to about 1e-3: ample for
training a network, not for checking gradients or for numbers compared exactly.
xpnet never turns it on by itself.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from .backend import gpu_available

# cuBLAS's math modes (cublas_api.h): CuPy's bindings name only the first two.
_CUBLAS_DEFAULT_MATH = 0
_CUBLAS_TF32_TENSOR_OP_MATH = 3


@contextmanager
def allow_tf32(enabled: bool = True) -> Iterator[tuple[str, ...]]:
    """Inside the block, float32 matrix products on a CUDA GPU may use TF32.

    ``with xpnet.allow_tf32(): xpnet.fit(...)``. It covers CuPy's matrix products
    (``@``, and the cuBLAS call that folds the SGD update into the weight gradient) and,
    when PyTorch is already imported and sees a CUDA GPU, PyTorch's (its
    ``set_float32_matmul_precision("high")``, which on some CPUs also lets its CPU
    products split float32 into two bfloat16). The settings before the block come back
    when it ends, however it ends. Yields the libraries switched (``("cupy", "torch")``,
    or ``()`` where there is no GPU: NumPy and the CPU have no TF32, so there is nothing
    to switch). ``allow_tf32(False)`` forces full float32 precision inside the block.

    The settings are the libraries' own: CuPy's is process-wide, its cuBLAS mode is that
    of the current thread and device, PyTorch's is process-wide; so do not enter the
    block from several threads at once.
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be True or False, not {enabled!r:.40}")
    switched = []
    with ExitStack() as restore:
        if gpu_available():
            restore.callback(_set_cupy_tf32(enabled))
            switched.append("cupy")
        if _torch_has_cuda():
            restore.callback(_set_torch_tf32(enabled))
            switched.append("torch")
        yield tuple(switched)


def _set_cupy_tf32(enabled: bool) -> Any:
    """Switch CuPy's float32 products; returns the function that switches them back."""
    import cupy
    from cupy._core import _routines_linalg as linalg
    from cupy_backends.cuda.libs import cublas

    # cupy.matmul reads a per-dtype compute type; cupy.cublas.gemm (fit's fused SGD
    # update) calls sgemm, which follows the cuBLAS handle's math mode instead.
    compute_type = linalg.get_compute_type(cupy.float32)
    handle = cupy.cuda.device.get_cublas_handle()
    math_mode = cublas.getMathMode(handle)
    linalg.set_compute_type(cupy.float32, linalg.COMPUTE_TYPE_TF32 if enabled
                            else linalg.COMPUTE_TYPE_DEFAULT)
    cublas.setMathMode(handle, _CUBLAS_TF32_TENSOR_OP_MATH if enabled else _CUBLAS_DEFAULT_MATH)

    def restore() -> None:
        linalg.set_compute_type(cupy.float32, compute_type)
        cublas.setMathMode(handle, math_mode)

    return restore


def _torch_has_cuda() -> bool:
    """Whether PyTorch is imported already (a run without it never needs it) and sees CUDA."""
    torch = sys.modules.get("torch")
    return torch is not None and torch.cuda.is_available()


def _set_torch_tf32(enabled: bool) -> Any:
    """Switch PyTorch's float32 products; returns the function that switches them back."""
    import torch

    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high" if enabled else "highest")
    return lambda: torch.set_float32_matmul_precision(before)
