"""How the ranks of a job talk: one small interface, two engines behind it.

Training needs four things from the other processes: a sum of one flat array over all
ranks (the step's gradients, the epoch's metrics), rank 0's flat array on every rank
(the first weights), a list of every rank's small Python value (to compare settings,
to agree on a failure) and a way to end the whole job. :class:`MpiTransport` does them
with MPI (mpi4py) on host buffers; :class:`NcclTransport` does the array sums on the
GPU with NCCL (through CuPy) and keeps MPI for the small host values. Buffer-based
MPI calls (``Allreduce``, ``Bcast``) are used for arrays: the lowercase, pickling ones
are 10-25x slower on large buffers.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from ..backend import namespace_of, to_device_of, to_numpy
from .mpi import import_mpi
from .threads import ranks_on_this_machine

ABORT_GRACE_SECONDS = 0.2
"""How long a failing rank waits, its report written, before it ends the job."""

Array = Any
class Transport:
    """The collectives a data-parallel run uses, for one communicator's ranks.

    ``fit(comm=...)`` takes an MPI communicator (the transport is then chosen from the
    arrays' library) or a transport itself: a subclass may carry the ranks' traffic
    another way by defining :meth:`allreduce_sum` and :meth:`broadcast` (and, where it
    has no mpi4py communicator, the methods below that use ``comm``).
    """

    def __init__(self, comm: Any) -> None:
        self.comm = comm
        self.rank: int = comm.Get_rank()
        self.size: int = comm.Get_size()

    def allreduce_sum(self, flat: Array) -> Array:
        """The element-wise sum of every rank's ``flat`` (1-D, same length everywhere);
        ``flat`` may be overwritten."""
        raise NotImplementedError

    def broadcast(self, flat: Array) -> Array:
        """Rank 0's ``flat`` on every rank (``flat`` gives the others its shape and dtype)."""
        raise NotImplementedError

    def gather_values(self, value: Any) -> list[Any]:
        """Every rank's small Python ``value``, in rank order, on every rank."""
        return self.comm.allgather(value)

    def gather_to_root(self, value: Any) -> list[Any] | None:
        """Every rank's Python ``value`` (arrays allowed), in rank order, on rank 0; None
        elsewhere."""
        return self.comm.gather(value, root=0)

    def broadcast_value(self, value: Any) -> Any:
        """Rank 0's small Python ``value`` on every rank."""
        return self.comm.bcast(value, root=0)

    def split(self, color: int, key: int) -> Transport:
        """The transport of the ranks that passed the same ``color``, ranked by ``key`` (a
        collective: every rank calls it), for a grid of both kinds of parallelism. Each
        transport defines its own: a subclass's groups would otherwise lose its way of
        carrying the traffic."""
        raise NotImplementedError(f"{type(self).__name__} does not define split(color, key), "
                                  "which a grid (parallel=('data', 'tensor')) needs to make its "
                                  "groups of ranks; define it, or pass an MPI communicator")

    def ranks_on_this_machine(self) -> tuple[int, int]:
        """``(local_rank, local_size)``: this rank's place among the ranks on its machine."""
        return ranks_on_this_machine(self.comm)

    def abort(self, status: int = 1) -> None:
        """End every process of the job now (after a failure only some ranks saw)."""
        sys.stdout.flush()
        sys.stderr.flush()
        # mpiexec forwards each process's output on its own time and drops what is still
        # in flight when an abort tears the job down: give it a moment to pass the report on.
        time.sleep(ABORT_GRACE_SECONDS)
        self.comm.Abort(status)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rank {self.rank} of {self.size})"


class MpiTransport(Transport):
    """Sums and broadcasts through MPI on host memory (a device array is staged there)."""

    def allreduce_sum(self, flat: Array) -> Array:
        MPI = import_mpi()
        host = _writable_host(flat)
        self.comm.Allreduce(MPI.IN_PLACE, host, op=MPI.SUM)
        return _back(host, flat)

    def broadcast(self, flat: Array) -> Array:
        host = _writable_host(flat)
        self.comm.Bcast(host, root=0)
        return _back(host, flat)

    def split(self, color: int, key: int) -> Transport:
        """:meth:`Transport.split`: MPI's ``Comm.Split``, over host memory."""
        return MpiTransport(split_comm(self.comm, color, key))


def _writable_host(flat: Array) -> np.ndarray:
    """``flat`` as a contiguous NumPy array MPI may write into (no copy for NumPy input)."""
    host = to_numpy(flat)
    if not (host.flags.c_contiguous and host.flags.writeable):
        host = np.array(host, copy=True)
    return host


def _back(host: np.ndarray, like: Array) -> Array:
    """``host`` as an array of ``like``'s library and device (itself for NumPy)."""
    return host if isinstance(like, np.ndarray) else to_device_of(host, like)


class NcclTransport(Transport):
    """Sums and broadcasts of CuPy arrays on their GPUs through NCCL; one GPU per rank."""

    def __init__(self, comm: Any) -> None:
        super().__init__(comm)
        from cupy.cuda import nccl

        self._nccl = nccl
        self.device_id = cupy_current_device()
        unique_id = comm.bcast(nccl.get_unique_id() if self.rank == 0 else None, root=0)
        self._comm = nccl.NcclCommunicator(self.size, unique_id, self.rank)

    def split(self, color: int, key: int) -> Transport:
        """:meth:`Transport.split`, the new group's sums on this GPU through NCCL too."""
        return _nccl_transport(split_comm(self.comm, color, key), self.device_id)

    def _nccl_dtype(self, flat: Array) -> int:
        types = {"float32": self._nccl.NCCL_FLOAT32, "float64": self._nccl.NCCL_FLOAT64}
        return types[str(flat.dtype)]

    def allreduce_sum(self, flat: Array) -> Array:
        import cupy

        with flat.device:  # the arrays' GPU and its current stream, whichever is current
            flat = cupy.ascontiguousarray(flat)
            stream = cupy.cuda.get_current_stream().ptr
            self._comm.allReduce(flat.data.ptr, flat.data.ptr, flat.size,
                                 self._nccl_dtype(flat), self._nccl.NCCL_SUM, stream)
        return flat

    def broadcast(self, flat: Array) -> Array:
        import cupy

        with flat.device:
            flat = cupy.ascontiguousarray(flat)
            stream = cupy.cuda.get_current_stream().ptr
            self._comm.bcast(flat.data.ptr, flat.size, self._nccl_dtype(flat), 0, stream)
        return flat


def nccl_problem() -> str | None:
    """Why NCCL cannot carry CuPy arrays here, or None when it can."""
    try:
        from cupy.cuda import nccl
    except Exception as exc:  # CuPy missing or its CUDA libraries broken: both mean no NCCL
        return f"CuPy's NCCL module could not be imported ({exc})"
    if not getattr(nccl, "available", True):
        return "this CuPy was built without NCCL; install the nccl package for your CUDA"
    return None


def transport_kind(like: Array) -> str:
    """``"nccl"`` for CuPy arrays where NCCL is usable, else ``"mpi"`` (on host memory)."""
    import array_api_compat

    namespace_of(like=like)  # a clear error for something that is not an array
    return "nccl" if array_api_compat.is_cupy_array(like) and nccl_problem() is None else "mpi"


# One NCCL communicator per MPI communicator and GPU, made once: making one is a
# collective of every rank (and costly), and so is destroying one, which must not be left
# to each process's garbage collector at moments that differ from rank to rank. Split
# communicators are made once for the same reason (a run repeated in one process finds
# its NCCL communicators instead of making new ones). Both are kept on the communicator
# itself, as an MPI attribute: they go when it is freed (a collective), and a later
# communicator that reuses its handle starts with none, on every rank alike.
_MADE_ONCE_KEY: list[int] = []


def made_once(comm: Any) -> dict[Any, Any]:
    """The dict of what was made once for ``comm`` (its splits, its NCCL transports)."""
    MPI = import_mpi()
    if not _MADE_ONCE_KEY:
        _MADE_ONCE_KEY.append(MPI.Comm.Create_keyval())  # not copied by Dup: a new dict
    cache = comm.Get_attr(_MADE_ONCE_KEY[0])
    if cache is None:
        cache = {}
        comm.Set_attr(_MADE_ONCE_KEY[0], cache)
    return cache


def split_comm(comm: Any, color: int, key: int) -> Any:
    """``comm.Split(color, key)``, made once for each way of splitting ``comm``. Every rank
    of ``comm`` must call it."""
    # Cached by every rank's (color, key): the same on every rank, so either all ranks
    # find the split made or all make it (a rank's own pair could repeat across splits).
    split = ("split", tuple(comm.allgather((int(color), int(key)))))
    cache = made_once(comm)
    if split not in cache:
        cache[split] = comm.Split(int(color), int(key))
    return cache[split]


def cupy_current_device() -> int:
    """The number of CuPy's current GPU."""
    import cupy

    return cupy.cuda.Device().id


def _nccl_transport(comm: Any, device_id: int) -> NcclTransport:
    """The one NCCL transport of ``comm``'s ranks on GPU ``device_id``."""
    import cupy

    with cupy.cuda.Device(device_id):
        key, cache = ("nccl", device_id), made_once(comm)
        if key not in cache:
            cache[key] = NcclTransport(comm)
        return cache[key]


def transport_for(comm: Any, like: Array) -> Transport:
    """The transport for ``comm``'s ranks and arrays of ``like``'s library: NCCL for CuPy
    arrays where NCCL is usable (on ``like``'s GPU), MPI on host memory otherwise. Every
    rank must call it, with arrays of the same kind."""
    if transport_kind(like) == "mpi":
        return MpiTransport(comm)
    return _nccl_transport(comm, like.device.id)
