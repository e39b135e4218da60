"""A run over several processes made ready: every rank checks what it was given, the
ranks agree that they were given the same, and rank 0's first weights go to all.

Each step that can fail on some ranks only runs through
:func:`~xpnet.distributed.on_every_rank`, so a bad option or a bad file raises on every
rank instead of leaving the others waiting in the next collective.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from typing import Any

from ..backend import backend_name, contiguous, is_host_data, namespace_of
from ..distributed import (MpiTransport, Transport, check_communicator, failures_end_the_job,
                           on_every_rank, raised_on_every_rank, select_local_gpu, share_cores,
                           transport_for, transport_kind)
from ..validation import check_layer_dims, data_namespace
from .checkpoint import Checkpointer, check_checkpoint_model
from .options import FitOptions, fit_options
from .parallel import broadcast_params, piece
from .run import TrainingRun, describe_run, prepare_run
from .tensor import TensorLayout, TensorParallel, check_shard, init_shard, tensor_layout

Array = Any


PARALLEL = ("data", "tensor")
GRID = ("data", "tensor")  # parallel= for both kinds at once, with mesh=(n_data, n_tensor)


def check_parallel(parallel: Any, comm: Any, mesh: Any = None) -> str:
    """``parallel`` checked: ``"data"``, ``"tensor"`` or ``"grid"`` for ``("data",
    "tensor")`` (the last two need ``comm``; ``mesh`` is checked on the ranks, see
    :func:`check_mesh`)."""
    if isinstance(parallel, (tuple, list)) and tuple(parallel) == GRID:
        kind = "grid"
    elif isinstance(parallel, str) and parallel in PARALLEL:
        kind = parallel
    else:
        raise ValueError(f"parallel must be 'data', 'tensor' or ('data', 'tensor') (a grid of "
                         f"both, with mesh=(n_data, n_tensor)), got {parallel!r}")
    if kind != "data" and comm is None:
        raise ValueError(f"parallel={parallel!r} splits the layers across processes: pass comm "
                         "(an MPI communicator such as MPI.COMM_WORLD)")
    if mesh is not None and comm is None:
        raise ValueError("mesh arranges the ranks of comm in a grid: pass comm, and "
                         "parallel=('data', 'tensor')")
    return kind


def check_mesh(kind: str, mesh: Any, layer_dims: Sequence[int], size: int) -> tuple[int, int] | None:
    """``mesh`` as ``(n_data, n_tensor)`` for a grid of ``size`` ranks (None for the other
    kinds, which take none), or a ``ValueError`` saying what to pass."""
    if kind != "grid":
        if mesh is not None:
            raise ValueError(f"mesh={mesh!r} is for parallel=('data', 'tensor'), not "
                             f"parallel={kind!r}: leave mesh out, or ask for the grid")
        return None
    if mesh is None:
        raise ValueError("parallel=('data', 'tensor') needs the grid's shape: pass "
                         f"mesh=(n_data, n_tensor) with n_data * n_tensor == {size} (the ranks)")
    if not (isinstance(mesh, (tuple, list)) and len(mesh) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in mesh)):
        raise ValueError(f"mesh must be two positive ints (n_data, n_tensor), got {mesh!r}")
    n_data, n_tensor = mesh
    if n_data * n_tensor != size:
        raise ValueError(f"mesh={tuple(mesh)} makes a grid of {n_data * n_tensor} ranks, but comm "
                         f"has {size}: pass mesh=(n_data, n_tensor) with n_data * n_tensor == "
                         f"{size}")
    hidden = [int(n) for n in layer_dims[1:-1]]
    if not hidden or n_tensor > min(hidden):
        raise ValueError(f"mesh={tuple(mesh)} splits every hidden layer over n_tensor={n_tensor} "
                         f"ranks, and layer_dims {list(layer_dims)} has "
                         + (f"one of {min(hidden)} units: pass a mesh with n_tensor <= "
                            f"{min(hidden)}" if hidden else "none: use parallel='data'"))
    return n_data, n_tensor


def prepare_run_on_ranks(X: Any, Y: Any, layer_dims: Sequence[int],
                         params: dict[str, Array] | None, given: dict[str, Any], comm: Any,
                         parallel: str = "data", mesh: Any = None
                         ) -> tuple[TrainingRun, Checkpointer | None]:
    """:func:`~xpnet.training.run.prepare_run` on every rank of ``comm`` (an MPI
    communicator, or a :class:`~xpnet.distributed.Transport`), agreed by all: ``parallel``
    ``"data"`` (each rank a piece of every batch), ``"tensor"`` (each rank a share of
    every hidden layer, see :mod:`xpnet.training.tensor`) or ``"grid"`` (both, on
    ``mesh=(n_data, n_tensor)``: see :func:`grid_transports`)."""
    given_transport = comm if isinstance(comm, Transport) else None
    # Small Python values go through MPI until the arrays' library picks their transport.
    values = given_transport or MpiTransport(check_communicator(comm))
    machine = values.ranks_on_this_machine()  # (a collective: every rank, before anything fails)
    options, mesh = on_every_rank(
        values, lambda: _checked_options(given, parallel, mesh, layer_dims, values),
        "checking fit's options")
    # Every rank must draw the same first weights and sample order: one seed for all.
    seed = values.broadcast_value(secrets.randbits(32) if options.seed is None else None)
    options = dataclasses.replace(options, seed=options.seed if seed is None else seed,
                                  verbose=options.verbose if values.rank == 0 else 0)
    on_every_rank(values, lambda: _use_this_ranks_gpu(X, Y, options, machine), "choosing a GPU")
    checkpointer = on_every_rank(values, lambda: checkpointer_for(options, layer_dims),
                                 "opening the checkpoint")
    layout = _tensor_layout(parallel, mesh, layer_dims, values)
    network = None if layout is None else _shard_maker(layout, options)
    run = on_every_rank(values, lambda: prepare_run(X, Y, layer_dims, params, options, network),
                        "checking the data and the network")
    # Taken before each rank keeps its piece of the validation data: a checkpoint's
    # description is the whole run's, the same on every rank.
    run.description = describe_run(run)
    kind = "given" if given_transport else transport_kind(run.X)
    check_same_run(values, {**run.description, **_loop_settings(options), "transport": kind,
                            "backend": backend_name(namespace_of(X=run.X)), "parallel": parallel,
                            "mesh": mesh,
                            "checkpoint found": checkpointer is not None and checkpointer.exists})
    # Agreed: from here a failure of one rank (out of memory, say) ends the job.
    with failures_end_the_job(values):
        # A grid sums over its groups only: the world needs no NCCL communicator of its own.
        run.transport = given_transport or (values if parallel == "grid"
                                            else transport_for(comm, run.X))
        if parallel == "data":
            run.data_transport = run.transport
        elif parallel == "tensor":  # every rank sees every sample; one seed drew the shares
            run.tensor = TensorParallel(layout, run.transport)
        else:
            tensor, run.data_transport = grid_transports(values, mesh,
                                                         None if given_transport else run.X)
            run.tensor = TensorParallel(layout, tensor)
        if run.data_transport is not None:  # (in a grid: the copies of each share)
            broadcast_params(run.data_transport, run.params)
            _take_this_ranks_part(run)
        if checkpointer is not None:
            checkpointer.shards = run.tensor
        if backend_name(namespace_of(X=run.X)) == "numpy":
            share_cores(machine[1])
    return run, checkpointer


def grid_transports(world: Transport, mesh: tuple[int, int], like: Array | None
                    ) -> tuple[Transport, Transport]:
    """This rank's two groups of a grid ``mesh=(n_data, n_tensor)`` of ``world``'s ranks:
    its tensor group (rank ``d * n_tensor + t`` is rank ``t`` of group ``d``: together
    they hold one copy of the network) and its data group (the ``n_data`` ranks that hold
    the same share ``t``, whose gradients are summed each step). ``like``: an array whose
    library picks the groups' transport (NCCL for CuPy), or None to split ``world`` as it
    is (a transport given to fit). Every rank must call it."""
    d, t = divmod(world.rank, mesh[1])
    # Consecutive ranks make a tensor group: launchers place consecutive ranks on one
    # machine, where its two sums per hidden pair per step find the fastest links.
    tensor, data = world.split(d, t), world.split(t, d)
    if like is None:
        return tensor, data
    return transport_for(tensor.comm, like), transport_for(data.comm, like)


def _tensor_layout(parallel: str, mesh: tuple[int, int] | None, layer_dims: Sequence[int],
                   world: Transport) -> TensorLayout | None:
    """This rank's share of the network: of all ranks (tensor), of its tensor group (grid)."""
    if parallel == "tensor":
        return tensor_layout(layer_dims, world.rank, world.size)
    if parallel == "grid":
        return tensor_layout(layer_dims, world.rank % mesh[1], mesh[1])
    return None


def _loop_settings(options: FitOptions) -> dict[str, Any]:
    """Settings a checkpoint may change on resuming, but every rank must share: the ranks
    meet once per epoch until the same end. (Callbacks may differ: logging on rank 0
    alone is fine, and their stops are agreed every epoch.)"""
    return {"epochs": options.epochs, "on_nan": options.on_nan,
            "restore_on_nan": options.restore_on_nan,
            "checkpoint_every": options.checkpoint_every,
            "checkpoint": options.checkpoint is not None}


def _checked_options(given: dict[str, Any], parallel: str, mesh: Any,
                     layer_dims: Sequence[int], transport: Transport
                     ) -> tuple[FitOptions, tuple[int, int] | None]:
    """The options, and the grid's ``(n_data, n_tensor)`` (None unless ``parallel`` is
    ``"grid"``), checked on this rank."""
    options = fit_options(**given)
    if parallel == "tensor":
        tensor_layout(layer_dims, transport.rank, transport.size)  # splittable?
    if parallel == "grid" or mesh is not None:
        check_layer_dims(layer_dims)
    if parallel == "grid" and type(transport).split is Transport.split:
        transport.split(0, 0)  # the advice of a transport that cannot make the grid's groups
    return options, check_mesh(parallel, mesh, layer_dims, transport.size)


def _shard_maker(layout: TensorLayout, options: FitOptions) -> Any:
    """The ``network`` argument of prepare_run: this rank's share, drawn or checked."""
    def network(layer_dims: list[int], params: Any, X: Array) -> dict[str, Array]:
        if params is None:
            return init_shard(layout, seed=options.seed, scale=options.scale, dtype=X.dtype,
                              xp=namespace_of(X=X))
        check_shard(params, layout)
        return params
    return network


def checkpointer_for(options: FitOptions, layer_dims: Sequence[int]) -> Checkpointer | None:
    """The run's checkpointer, or None without ``checkpoint``; its ``checkpoint_model``
    checked against the network first (before any epoch, and before any rank waits)."""
    o = options
    if o.checkpoint is None:
        return None
    model = None if o.checkpoint_model is None else check_checkpoint_model(
        o.checkpoint_model, check_layer_dims(layer_dims), o.output)
    return Checkpointer(o.checkpoint, o.checkpoint_every, o.resume, o.restart, model)


def check_same_run(transport: Transport, description: dict[str, Any]) -> None:
    """Raise on every rank unless every rank's ``description`` equals rank 0's."""
    descriptions = transport.gather_values(description)
    first = descriptions[0]
    differences = []
    for rank, other in enumerate(descriptions[1:], start=1):
        keys = sorted(set(first) | set(other), key=str)
        found = [f"{key} {_short(other.get(key))} where rank 0 has {_short(first.get(key))}"
                 for key in keys if other.get(key) != first.get(key)]
        if found:
            differences.append(f"rank {rank} has {', '.join(found)}")
    if differences:
        raise raised_on_every_rank(ValueError(
            f"the ranks were not given the same training: {'; '.join(differences)}. Every rank "
            "must call fit with the same options and the same data (X, Y and any validation "
            "data), and see the same checkpoint file"))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:16] + "..."


def _use_this_ranks_gpu(X: Any, Y: Any, options: FitOptions, machine: tuple[int, int]) -> None:
    """Host data bound for CuPy goes to this rank's own GPU (before any array is made);
    ``machine`` is this rank's ``(local_rank, local_size)``."""
    if is_host_data(X) and backend_name(data_namespace(X, Y, options.backend)) == "cupy":
        select_local_gpu(*machine)


def _take_this_ranks_part(run: TrainingRun) -> None:
    """Every rank keeps the samples in rows (its pieces of each batch are row ranges) and
    only its piece of the validation samples (its data group's, in a grid)."""
    if run.X_rows is None:
        run.X_rows, run.Y_rows = contiguous(run.X.T), contiguous(run.Y.T)
    if run.X_val is not None:
        data = run.data_transport
        lo, hi = piece(0, run.n_validation, data.rank, data.size)
        run.X_val, run.Y_val = run.X_val[:, lo:hi], run.Y_val[:, lo:hi]
