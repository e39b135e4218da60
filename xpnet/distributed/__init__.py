"""Training on several processes: the transport between ranks (MPI on CPUs, NCCL on GPUs),
failures that end the whole job, and each rank's share of the machine.

Launch a script on N processes with ``mpiexec -n N python -m mpi4py script.py`` (the
``-m mpi4py`` ends every rank when one raises) and pass ``comm=MPI.COMM_WORLD`` to
:func:`xpnet.fit` or an estimator; the ``xpnet`` command finds the communicator itself.
"""

from __future__ import annotations

import os
from typing import Any

from .faults import (agree_on_flag, failures_end_the_job, on_every_rank,
                     raised_on_every_rank)
from .mpi import import_mpi
from .threads import ranks_on_this_machine, share_cores
from .transport import (MpiTransport, NcclTransport, Transport, nccl_problem, transport_for,
                        transport_kind)

__all__ = ["Transport", "MpiTransport", "NcclTransport", "transport_for", "import_mpi",
           "nccl_problem", "transport_kind", "on_every_rank", "agree_on_flag", "failures_end_the_job",
           "raised_on_every_rank", "ranks_on_this_machine", "share_cores",
           "launched_by_mpiexec", "world", "as_transport", "check_communicator", "select_local_gpu",
           "mpi_problem"]

# What MPICH's, Open MPI's and PMIx launchers put in each process's environment.
_LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE")


def launched_by_mpiexec() -> int:
    """The number of processes ``mpiexec`` started this one among (1 when not launched so)."""
    for name in _LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def world() -> Any | None:
    """``MPI.COMM_WORLD`` when this process is one of several launched by ``mpiexec``, else
    None (a single process needs no communicator, nor mpi4py)."""
    if launched_by_mpiexec() <= 1:
        return None
    MPI = import_mpi()
    return MPI.COMM_WORLD if MPI.COMM_WORLD.Get_size() > 1 else None


def as_transport(comm: Any) -> Transport:
    """``comm`` itself if it is a :class:`Transport`, else an MPI transport over it."""
    return comm if isinstance(comm, Transport) else MpiTransport(check_communicator(comm))


def check_communicator(comm: Any) -> Any:
    """``comm`` if it is an MPI communicator (mpi4py's ``Intracomm``), else a ``TypeError``."""
    needed = ("Get_rank", "Get_size", "Allreduce", "Bcast", "allgather", "bcast", "Abort")
    missing = [name for name in needed if not hasattr(comm, name)]
    if missing:
        raise TypeError(f"comm must be an mpi4py communicator such as MPI.COMM_WORLD (or None "
                        f"for one process), not {type(comm).__name__}, which lacks "
                        f"{', '.join(missing)}")
    return comm


def select_local_gpu(local_rank: int, local_size: int) -> int:
    """Make this rank's GPU current: the one of its rank among the ``local_size`` ranks on
    its machine. NCCL needs a GPU of its own for each rank: more ranks than GPUs on a
    machine are refused. Returns the GPU's number."""
    import cupy

    count = cupy.cuda.runtime.getDeviceCount()
    if local_size > count:
        raise ValueError(f"{local_size} processes on this machine share {count} GPU(s); each "
                         f"needs its own: launch at most {count} processes per machine")
    cupy.cuda.Device(local_rank).use()
    return local_rank


def mpi_problem() -> str | None:
    """Why several processes cannot train together here (mpi4py or its MPI library missing),
    or None when they can."""
    try:
        import_mpi()
    except Exception as exc:  # an MPI library that fails to load is as missing as none
        return str(exc)
    return None
