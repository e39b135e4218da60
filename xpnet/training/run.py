"""A training run made ready: the data on its backend, the network, the batches' layout."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..activations import Activation
from ..backend import asarray, contiguous, is_host_data, namespace_of, wants_auto
from ..network import init_params, layer_activations
from ..parameters import layer_dims_of, layer_keys
from ..seeding import host_rng
from ..validation import check_layer_dims, check_split, prepare_data
from ..workload import AutoChoice, choose_backend
from .options import FitOptions
from .progress import announce

Array = Any


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
    auto_choice: AutoChoice | None = None  # where "auto" put the run, and why


def prepare_run(X: Any, Y: Any, layer_dims: Sequence[int], params: dict[str, Array] | None,
                options: FitOptions) -> TrainingRun:
    """The data checked and on its backend, validation samples held out, the network made
    (or ``params`` checked to fit), and a fresh network's optimizer state reset."""
    o = options
    params_given = params
    layer_dims = check_layer_dims(layer_dims)
    X, Y, auto_choice = _placed_data(X, Y, layer_dims, params, o)
    xp = namespace_of(X=X)
    rng = host_rng(o.seed)
    X_val = Y_val = None
    if o.validation_data is not None:
        X_val, Y_val = prepare_data(*o.validation_data, layer_dims, o.output, xp, X.dtype,
                                    names=("validation_data[0]", "validation_data[1]"))
    elif o.validation_split:
        X, Y, X_val, Y_val = _split(X, Y, o.validation_split, rng)
    if params is None:
        params = init_params(layer_dims, seed=o.seed, scale=o.scale, dtype=X.dtype, backend=xp)
        o.optimizer.reset()  # an instance reused from another run must not carry its state here
    else:
        _check_initial_params(params, layer_dims, X)
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
                       auto_choice=auto_choice)


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
