"""A training run made ready: the data on its backend, the network, the batches' layout."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..activations import Activation
from ..backend import (asarray, contiguous, dtype_name, is_host_data, namespace_of, to_numpy,
                       wants_auto)
from ..evaluation import standardized
from ..network import init_params, layer_activations
from ..parameters import layer_dims_of, layer_keys
from ..seeding import host_rng
from ..validation import check_layer_dims, check_split, prepare_data
from ..workload import AutoChoice, choose_backend
from .checkpoint import data_fingerprint
from .options import FitOptions
from .progress import announce

Array = Any
NetworkMaker = Callable[[list[int], "dict[str, Array] | None", Array], "dict[str, Array]"]


@dataclass
class TrainingRun:
    """A validated run: its options, data on one backend, parameters and sample-order RNG."""

    options: FitOptions
    X: Array
    Y: Array
    X_rows: Array | None  # X.T and Y.T row-major, for cheap mini-batches (None: full batch)
    Y_rows: Array | None
    X_val: Array | None
    Y_val: Array | None
    params: dict[str, Array]
    activations: list[Activation]
    batch_size: int  # the option, at most the number of samples
    rng: Any
    largest_safe_weight: float  # sqrt of the dtype's largest number (see epoch.py)
    batch_shares: Array  # each mini-batch's share of the samples, made once per run
    chance: Array | None  # accuracy of guessing the most common class (classifiers), 0-d
    fresh: bool  # a new network (not params given to continue): its start can be judged from
    layer_dims: list[int] | None = None  # the whole network's (params may hold a share of it)
    n_validation: int = 0  # the validation samples of all ranks together
    # The ranks sharing each mini-batch (None: this process alone); X_val and Y_val then
    # hold this rank's piece of the validation samples (see xpnet.training.ranks).
    transport: Any = None
    # Tensor parallel: this rank's share of every hidden layer (xpnet.training.tensor), or None.
    tensor: Any = None
    # The ranks that share each mini-batch, one piece each (xpnet.training.parallel): the
    # transport's ranks for data parallel, this rank's data group in a grid; else None.
    data_transport: Any = None
    # The run's description (describe_run) taken before each rank kept its piece of the data.
    description: dict[str, Any] | None = None

    @property
    def data_parallel(self) -> bool:
        """Whether each rank trains on its piece of every mini-batch (xpnet.training.parallel)."""
        return self.data_transport is not None

    @property
    def writes_files(self) -> bool:
        """Whether this process prints progress and writes checkpoints (rank 0 does)."""
        return self.transport is None or self.transport.rank == 0

    @property
    def saves_checkpoints(self) -> bool:
        """Whether this process takes part in a checkpoint's save: rank 0, and with shares
        of the network the other ranks of its tensor group, which send theirs to it (in a
        grid the other groups hold copies of the same shares, and stay out)."""
        if self.tensor is None:
            return self.writes_files
        return self.data_transport is None or self.data_transport.rank == 0
    sample_weight: Array | None = None  # (m,) on the data's backend, or None: all samples alike
    host_weights: Any = None  # the same weights on the host, for each batch's weight sum
    auto_choice: AutoChoice | None = None  # where "auto" put the run, and why


def prepare_run(X: Any, Y: Any, layer_dims: Sequence[int], params: dict[str, Array] | None,
                options: FitOptions, network: NetworkMaker | None = None) -> TrainingRun:
    """The data checked and on its backend, validation samples held out, the network made
    (or ``params`` checked to fit), and a fresh network's optimizer state reset.
    ``network(layer_dims, params, X)`` makes or checks the parameters instead, where this
    process holds only a share of them (tensor parallel)."""
    o = options
    params_given = params
    layer_dims = check_layer_dims(layer_dims)
    if o.output.name == "softmax" and layer_dims[-1] < 2:  # its one unit is 1 for everything
        raise ValueError(f"output='softmax' needs at least two output units (one per class), "
                         f"but layer_dims ends in {layer_dims[-1]}; for two classes use one "
                         "unit with output='sigmoid'")
    X, Y, auto_choice = _placed_data(X, Y, layer_dims, params, o)
    xp = namespace_of(X=X)
    rng = host_rng(o.seed)
    X_val = Y_val = None
    if o.validation_data is not None:
        X_val, Y_val = prepare_data(*o.validation_data, layer_dims, o.output, xp, X.dtype,
                                    names=("validation_data[0]", "validation_data[1]"))
    elif o.validation_split:
        if o.sample_weight is not None:
            raise ValueError("sample_weight with validation_split is not supported: hold out the "
                             "validation samples yourself and pass validation_data=(X_val, Y_val)")
        X, Y, X_val, Y_val = _split(X, Y, o.validation_split, rng)
    if network is not None:
        params = network(layer_dims, params, X)
    elif params is None:
        params = init_params(layer_dims, seed=o.seed, scale=o.scale, dtype=X.dtype, backend=xp)
    else:
        _check_initial_params(params, layer_dims, X)
    if params_given is not None:
        # A model file's network was trained on standardised features: it goes on
        # training on them, as predict standardises (column by column: before or after
        # the validation split alike).
        X = standardized(X, params_given)
        X_val = None if X_val is None else standardized(X_val, params_given)
    else:
        o.optimizer.reset()  # an instance reused from another run must not carry its state here
    m = X.shape[1]
    batch_size = m if o.batch_size is None else min(o.batch_size, m)
    # Samples as rows: a mini-batch is then a slice or a row gather, ~10x cheaper than
    # gathering columns of X, and the GEMMs read the transposed view at full speed.
    X_rows, Y_rows = (contiguous(X.T), contiguous(Y.T)) if batch_size < m else (None, None)
    return TrainingRun(options=o, X=X, Y=Y, X_rows=X_rows, Y_rows=Y_rows, X_val=X_val, Y_val=Y_val,
                       params=params, activations=layer_activations(len(layer_dims) - 1, o.hidden,
                                                                    o.output),
                       batch_size=batch_size, rng=rng,
                       largest_safe_weight=math.sqrt(float(xp.finfo(X.dtype).max)),
                       batch_shares=_batch_shares(m, batch_size, xp, X.dtype),
                       chance=None if o.output.chance_accuracy is None
                       else o.output.chance_accuracy(Y), fresh=params_given is None,
                       n_validation=0 if X_val is None else int(X_val.shape[1]),
                       layer_dims=layer_dims,
                       auto_choice=auto_choice, **_sample_weights(o.sample_weight, m, xp, X.dtype))


def describe_run(run: TrainingRun) -> dict[str, Any]:
    """The settings and data a resumed run must share with the run that wrote its checkpoint
    (and every rank of a run on several processes with the others)."""
    o = run.options
    return {"layer_dims": run.layer_dims, "hidden": o.hidden, "output": o.output.name,
            "dtype": dtype_name(run.X.dtype), "n_samples": int(run.X.shape[1]),
            "optimizer": repr(o.optimizer), "schedule": repr(o.schedule), "lr": o.lr,
            "batch_size": run.batch_size, "shuffle": o.shuffle, "weight_decay": o.weight_decay,
            "seed": o.seed, **({"decay_per_sample": True} if o.decay_per_sample else {}),
            "early_stopping": None if o.early_stopping is None else [o.early_stopping, o.min_delta],
            "initial_epoch": o.initial_epoch, "validation": o.validation_data is not None,
            "data": data_fingerprint(run.X, run.Y, run.X_val, run.Y_val, run.sample_weight)}


def _sample_weights(sample_weight: Any, m: int, xp: Any, dtype: Any) -> dict[str, Any]:
    """``sample_weight`` checked (1-D, one finite weight >= 0 per sample, not all zero), on
    the device and on the host; an empty dict without weights."""
    if sample_weight is None:
        return {}
    host = to_numpy(asarray(sample_weight, "numpy", "float64"))
    if host.ndim != 1 or host.shape[0] != m:
        raise ValueError(f"sample_weight must be 1-D with one weight per sample ({m}), got shape "
                         f"{tuple(host.shape)}")
    if not ((host >= 0) & (host < float("inf"))).all():
        raise ValueError("sample_weight must hold finite weights >= 0; give a sample you want "
                         "to leave out weight 0")
    if not host.sum() > 0:
        raise ValueError("sample_weight is all zero: at least one sample needs a weight > 0")
    return {"sample_weight": asarray(host, xp, dtype), "host_weights": host}


def _placed_data(X: Any, Y: Any, layer_dims: list[int], params: Any,
                 o: FitOptions) -> tuple[Array, Array, AutoChoice | None]:
    """``X`` and ``Y`` checked and on their backend. With ``"auto"`` asked for, host data
    goes where the given ``params`` are, else where the work per step runs fastest
    (:mod:`xpnet.workload`); the choice is returned, and said when ``verbose``."""
    if not (wants_auto(o.backend) and is_host_data(X) and is_host_data(Y)):
        return (*prepare_data(X, Y, layer_dims, o.output, o.backend, o.dtype), None)
    if params is not None:  # a network to continue: its weights decide
        try:
            xp = namespace_of(**params)
        except TypeError:  # not a dict of arrays of one library: the params check says so
            xp = "numpy"
        return (*prepare_data(X, Y, layer_dims, o.output, xp, o.dtype), None)
    # Checked on the host; then the work per step is known: the batch's size, the layers'.
    X, Y = prepare_data(X, Y, layer_dims, o.output, "numpy", o.dtype)
    batch_size = X.shape[1] if o.batch_size is None else min(o.batch_size, X.shape[1])
    choice = choose_backend(layer_dims, batch_size)
    announce(str(choice), o.verbose)
    if choice.backend != "numpy":
        X, Y = asarray(X, choice.backend), asarray(Y, choice.backend)
    return X, Y, choice


def _batch_shares(m: int, batch_size: int, xp: Any, dtype: Any) -> Array:
    """Each mini-batch's share of the ``m`` samples (the last batch may be smaller)."""
    sizes = [min(batch_size, m - start) for start in range(0, m, batch_size)]
    return xp.asarray([size / m for size in sizes], dtype=dtype)


def _split(X: Array, Y: Array, fraction: float, rng: Any) -> tuple[Array, Array, Array, Array]:
    """A random ``fraction`` of the samples held out for validation."""
    m = X.shape[1]
    n_val = check_split(fraction, m, "validation_split")
    xp = namespace_of(X=X)
    order = asarray(rng.permutation(m), xp)
    train_idx, val_idx = order[n_val:], order[:n_val]
    return (xp.take(X, train_idx, axis=1), xp.take(Y, train_idx, axis=1),
            xp.take(X, val_idx, axis=1), xp.take(Y, val_idx, axis=1))


def _check_initial_params(params: Any, layer_dims: list[int], X: Array) -> None:
    if layer_dims_of(params) != layer_dims:
        raise ValueError(f"params were built for layer_dims {layer_dims_of(params)}, not {layer_dims}")
    namespace_of(X=X, **params)
    W1 = params[layer_keys(1)[0]]
    if W1.dtype != X.dtype:
        raise TypeError(f"params have dtype {W1.dtype} but X has {X.dtype}; "
                        "pass dtype= to match the parameters")
