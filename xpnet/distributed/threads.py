"""One machine's cores shared among the ranks that run on it.

Each rank's BLAS starts as many threads as the machine has cores; with several ranks per
machine they fight for the cores (measured: two ranks on two cores ran 22x slower than
with one thread each). Unless the user chose a thread count, each rank's BLAS gets its
share of the cores.
"""

from __future__ import annotations

import os
from typing import Any

from .mpi import import_mpi

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "BLIS_NUM_THREADS")


def ranks_on_this_machine(comm: Any) -> tuple[int, int]:
    """``(local_rank, local_size)``: this rank's place among the ranks on its machine."""
    local = comm.Split_type(import_mpi().COMM_TYPE_SHARED)
    try:
        return local.Get_rank(), local.Get_size()
    finally:
        local.Free()


def cores_per_rank(local_size: int) -> int:
    """This machine's cores (those this process may run on) divided among ``local_size`` ranks."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // local_size)


def share_cores(local_size: int) -> int | None:
    """Limit this process's BLAS threads to its share of the cores; returns the limit, or
    None where the user set a thread variable (theirs stands) or threadpoolctl is missing."""
    if any(os.environ.get(name) for name in THREAD_VARIABLES):
        return None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    threads = cores_per_rank(local_size)
    threadpool_limits(limits=threads, user_api="blas")
    return threads
