"""mpi4py, imported where it is needed, with the fix when it is missing."""

from __future__ import annotations

from typing import Any

from ..errors import BackendUnavailableError

MPI_INSTALL = 'pip install "xpnet[mpi]" (mpi4py and an MPI library, MPICH)'


def import_mpi() -> Any:
    """``mpi4py.MPI``, or a :class:`~xpnet.errors.BackendUnavailableError` saying how to get it."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise BackendUnavailableError(f"training on several processes needs mpi4py, which "
                                      f"could not be imported ({exc}); {MPI_INSTALL}") from exc
    return MPI
