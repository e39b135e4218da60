"""``xpnet info``: versions, and which backends and GPUs can run here."""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from typing import Any

from .._version import __version__
from ..backend import BACKEND_NAMES, backend_name, gpu_available, resolve_backend
from ..distributed import mpi_problem, nccl_problem
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
                    "scikit-learn", "matplotlib", "pooch", "tqdm", "mpi4py", "mpich"):
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
    for line in _several_processes_lines():
        print(line)
    return 0


def _several_processes_lines() -> list[str]:
    """Whether several processes can train together here: MPI, and NCCL for GPUs."""
    problem = mpi_problem()
    if problem is not None:
        return [f"several processes (MPI): unavailable: {problem}"]
    from mpi4py import MPI

    library = " ".join(MPI.Get_library_version().strip().splitlines()[0].split())
    lines = [f"several processes (MPI): usable ({library}); launch with "
             "mpiexec -n N xpnet train ..."]
    if gpu_available():
        nccl = nccl_problem()
        lines.append("GPUs across processes (NCCL): " + ("usable" if nccl is None
                                                          else f"unavailable: {nccl}"))
    return lines


def add_command(commands: Any) -> None:
    info = commands.add_parser("info", help="show versions and which backends and GPUs can run here",
                               description="Show versions and which backends and GPUs can run here.")
    info.set_defaults(run=run)
