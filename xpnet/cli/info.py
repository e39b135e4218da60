"""``xpnet info``: versions, and which backends and GPUs can run here."""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from typing import Any

from .._version import __version__
from ..backend import BACKEND_NAMES, backend_name, gpu_available, resolve_backend
from ..errors import BackendUnavailableError
from ..workload import choose_backend, describe_rule

# What "auto" picks for: xpnet train's default network (the digits), and a wider one.
AUTO_EXAMPLES = (([64, 64, 10], 32), ([784, 128, 64, 10], 256), ([784, 1024, 1024, 10], 512))


def _gpu_line() -> str:
    if not gpu_available():
        return "GPU: none usable"
    import cupy

    properties = cupy.cuda.runtime.getDeviceProperties(0)
    free, total = cupy.cuda.Device(0).mem_info
    name = properties["name"].decode() if isinstance(properties["name"], bytes) else properties["name"]
    return f"GPU: {name}, {total / 2**30:.1f} GiB ({free / 2**30:.1f} GiB free)"


def run(args: argparse.Namespace) -> int:
    print(f"xpnet {__version__}, Python {sys.version.split()[0]}")
    for package in ("numpy", "array-api-compat", "array-api-strict", "cupy", "torch", "jax",
                    "scikit-learn", "matplotlib", "pooch", "tqdm"):
        try:
            print(f"  {package:17s} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    print("backends:")
    for name in BACKEND_NAMES:
        try:
            xp = resolve_backend(name)
            print(f"  {name:17s} usable ({backend_name(xp)})")
        except BackendUnavailableError as exc:
            print(f"  {name:17s} unavailable: {exc}")
    print(_gpu_line())
    print(describe_rule())
    for layer_dims, batch_size in AUTO_EXAMPLES:
        print(f"  {str(layer_dims) + f', batch {batch_size}':30s} "
              f"{choose_backend(layer_dims, batch_size)}")
    return 0


def add_command(commands: Any) -> None:
    info = commands.add_parser("info", help="show versions and which backends and GPUs can run here",
                               description="Show versions and which backends and GPUs can run here.")
    info.set_defaults(run=run)
