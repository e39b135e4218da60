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

# What each library's settings writer takes besides the values its reader returned.
_TF32, _FULL = "tf32", "full"


@contextmanager
def allow_tf32(enabled: bool = True) -> Iterator[tuple[str, ...]]:
    """Inside the block, float32 matrix products on a CUDA GPU may use TF32.

    ``with xpnet.allow_tf32(): xpnet.fit(...)``. It covers CuPy's matrix products
    (``@``, and the cuBLAS call that folds the SGD update into the weight gradient) on
    GPUs that have TF32 (compute capability 8.0 or later) and, when PyTorch is imported
    before the block and sees a CUDA GPU, PyTorch's CUDA products. The settings before
    the block come back when it ends, however it ends. Yields the libraries switched
    (``("cupy", "torch")``, or ``()`` where no GPU has TF32: NumPy and the CPU have
    none, so there is nothing to switch). ``allow_tf32(False)`` forces full float32
    precision inside the block.

    The settings are the libraries' own. CuPy's compute type is process-wide (it covers
    ``@`` in every thread, and complex64 products too, which share float32's setting),
    while its cuBLAS mode belongs to the current thread and device; PyTorch's is
    process-wide. So enter the block from one thread, and do not change the CUDA
    device inside it.
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be True or False, not {enabled!r:.40}")
    switched = []
    with ExitStack() as restore:
        if _cupy_has_tf32():
            _switch(restore, _cupy_settings(), enabled)
            switched.append("cupy")
        if _torch_has_cuda():
            _switch(restore, _torch_settings(), enabled)
            switched.append("torch")
        yield tuple(switched)


def _switch(restore: ExitStack, settings: tuple[Any, Any], enabled: bool) -> None:
    """Put back what ``settings`` reads when ``restore`` closes, then switch TF32.

    The way back is registered first, so a switch that fails half-way is undone too.
    """
    read, write = settings
    restore.callback(write, read())
    write(_TF32 if enabled else _FULL)


def _cupy_has_tf32() -> bool:
    """Whether CuPy runs here on an NVIDIA GPU with TF32 (compute capability 8.0 or later)."""
    if not gpu_available():
        return False
    import cupy

    return not cupy.cuda.runtime.is_hip and int(cupy.cuda.Device().compute_capability) >= 80


def _cupy_settings() -> tuple[Any, Any]:
    """``(read, write)`` of CuPy's float32 product settings (``write`` takes what ``read``
    gives back, or ``_TF32`` / ``_FULL``)."""
    import cupy
    from cupy._core import _routines_linalg as linalg
    from cupy_backends.cuda.libs import cublas

    # cupy.matmul reads a per-dtype compute type; cupy.cublas.gemm (fit's fused SGD
    # update) calls sgemm, which follows the cuBLAS handle's math mode instead.
    handle = cupy.cuda.device.get_cublas_handle()
    named = {_TF32: (linalg.COMPUTE_TYPE_TF32, _CUBLAS_TF32_TENSOR_OP_MATH),
             _FULL: (linalg.COMPUTE_TYPE_DEFAULT, _CUBLAS_DEFAULT_MATH)}

    def read() -> tuple[int, int]:
        return linalg.get_compute_type(cupy.float32), cublas.getMathMode(handle)

    def write(setting: Any) -> None:
        compute_type, math_mode = named.get(setting, setting)
        linalg.set_compute_type(cupy.float32, compute_type)
        cublas.setMathMode(handle, math_mode)

    return read, write


def _torch_has_cuda() -> bool:
    """Whether PyTorch is imported already (a run without it never needs it) and sees CUDA."""
    torch = sys.modules.get("torch")
    return torch is not None and torch.cuda.is_available()


def _torch_settings() -> tuple[Any, Any]:
    """``(read, write)`` of PyTorch's float32 CUDA product precision."""
    import torch

    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):  # PyTorch 2.9 and later: CUDA products only
        named = {_TF32: "tf32", _FULL: "ieee"}

        def write(setting: str) -> None:
            matmul.fp32_precision = named.get(setting, setting)

        return (lambda: matmul.fp32_precision), write
    named = {_TF32: "high", _FULL: "highest"}  # older PyTorch: its one process-wide knob
    return torch.get_float32_matmul_precision, \
        lambda setting: torch.set_float32_matmul_precision(named.get(setting, setting))
