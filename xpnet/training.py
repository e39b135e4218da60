"""Training: ``fit``, the one training loop, and the tutorial's ``train`` on top of it."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .activations import get_activation
from .backend import Backend, asarray, contiguous, dtype_name, namespace_of, to_numpy
from .checkpoint import Checkpointer, data_fingerprint
from .floating import divergence_reported_by_fit
from .errors import TrainingDivergedError
from .evaluation import CLASSIFICATION_OUTPUTS, correct_count
from .history import EarlyStopping, History
from .activations import Activation
from .losses import Loss, loss_for_output
from .network import backward, forward, init_params, layer_activations
from .optimizers import Optimizer, get_optimizer
from .parameters import (gradient_key, layer_dims_of, layer_keys, n_layers,
                         restore_params)
from .progress import epoch_progress, show_metrics
from .schedules import Schedule, get_schedule
from .seeding import host_rng
from .snapshots import WeightSnapshots
from .training_step import backward_and_update, updates_each_layer
from .validation import (check_count, check_fraction, check_layer_dims, check_non_negative,
                         check_positive, prepare_data)

Array = Any
Callback = Callable[[int, Mapping[str, float], Mapping[str, Array]], Any]


@dataclass
class _Run:
    """A validated training run: the data on its backend, the network, and how to step it."""

    X: Array
    Y: Array
    X_rows: Array | None  # X.T and Y.T row-major, for cheap mini-batches (None: full batch)
    Y_rows: Array | None
    X_val: Array | None
    Y_val: Array | None
    params: dict[str, Array]
    output: str
    activations: list[Activation]
    loss: Loss
    optimizer: Optimizer
    schedule: Schedule
    lr: float
    batch_size: int
    shuffle: bool
    weight_decay: float
    rng: Any
    largest_safe_weight: float  # sqrt of the dtype's largest number (see _train_epoch)
    batch_shares: Array  # each mini-batch's share of the samples, made once per run
    layerwise: bool  # the optimizer takes one layer's gradients at a time (training_step.py)

    @property
    def classifier(self) -> bool:
        return self.output in CLASSIFICATION_OUTPUTS


def fit(X: Any, Y: Any, layer_dims: Sequence[int], *, epochs: int = 100, lr: float = 0.01,
        batch_size: int | None = None, shuffle: bool = True,
        optimizer: str | Optimizer = "sgd", schedule: str | Schedule = "constant",
        weight_decay: float = 0.0, hidden: str = "sigmoid", output: str = "sigmoid",
        seed: int | None = 3, scale: float | str = 0.01, dtype: Any = None,
        backend: Backend | None = None, params: dict[str, Array] | None = None,
        validation_data: tuple[Any, Any] | None = None, validation_split: float = 0.0,
        early_stopping: int | None = None, min_delta: float = 0.0,
        callbacks: Sequence[Callback] = (), on_nan: str = "raise", restore_on_nan: bool = True,
        initial_epoch: int = 0,
        checkpoint: str | os.PathLike | None = None, checkpoint_every: int = 1,
        resume: bool = False, restart: bool = False, verbose: int = 1) -> tuple[dict[str, Array], History]:
    """Train a network; returns ``(params, history)``.

    Data: ``X`` ``(n_features, n_samples)``, ``Y`` ``(n_outputs, n_samples)``, moved to
    ``backend`` if given (else they stay where they are; host data goes to the
    selected backend). ``validation_data=(X_val, Y_val)`` or ``validation_split``
    (a fraction held out at random) adds ``val_loss``/``val_accuracy``.

    Steps: mini-batches of ``batch_size`` (``None``: the full batch), reshuffled
    every epoch on the device when ``shuffle``; ``optimizer`` ``"sgd"``,
    ``"momentum"``, ``"nesterov"``, ``"adam"`` or an instance; ``schedule``
    ``"constant"``, ``"step"``, ``"exponential"``, ``"inverse_scaling"`` or an
    instance; ``weight_decay`` adds the L2 penalty ``weight_decay/2 * sum(W**2)``
    (weights only). ``params`` continues training existing parameters (in place).

    Stopping: ``early_stopping=patience`` stops when the monitored loss
    (``val_loss`` if there is validation data, else ``loss``) has not improved by
    ``min_delta`` for ``patience`` epochs, and restores the best weights. Each
    ``callback(epoch, logs, params)`` runs after every epoch; a true return value
    stops training. A NaN/inf loss (or weights that overflow while the clipped loss
    stays finite) restores the last weights known to be good (from the start of the
    epoch before, or of this epoch for an overflow; kept in host memory, like early
    stopping's best weights, so they take no device memory) and raises
    :class:`~xpnet.errors.TrainingDivergedError`, naming the first mini-batch whose
    loss was not finite (``on_nan="raise"``), or stops (``on_nan="stop"``).
    ``restore_on_nan=False`` keeps no such copies (no host memory or per-epoch
    transfer for them: for networks whose weights fill the host's memory); a
    divergence then leaves the weights as they were when it was found.
    ``initial_epoch`` continues a run: schedules and callbacks count epochs from it.
    A fresh network (``params=None``) resets an optimizer instance's state.
    ``verbose``: 0 silent, 1 a progress bar when stderr is a terminal, 2 always.

    Checkpoints: with ``checkpoint=path`` the run's whole state (parameters,
    optimizer state, the sample-order RNG, epoch, history, early stopping) is
    written atomically to ``path`` every ``checkpoint_every`` epochs and after the
    last one. ``resume=True`` continues from ``path`` when it exists and starts
    afresh when it does not. The checkpoint must come from a run with the same
    settings and the same data (compared by a SHA-256 of the arrays, computed once
    on the host); ``epochs`` may grow, and ``params``, if given, are replaced by the
    checkpoint's. A run that early stopping ended stays ended. On CPU backends a
    resumed run ends bit-identical to one that was never interrupted. An existing
    ``path`` is an error unless ``resume=True`` or ``restart=True`` (a new run whose
    first checkpoint replaces the old file; until then a failure leaves it).

    Each epoch reads its metrics back from the device once, and copies the weights to the
    host once for the divergence fallback (none with ``restore_on_nan=False``), and again
    when early stopping sees them improve; nothing else leaves the device.
    """
    epochs = check_count(epochs, "epochs")
    initial_epoch = check_count(initial_epoch, "initial_epoch")
    if on_nan not in ("raise", "stop"):
        raise ValueError(f"on_nan must be 'raise' or 'stop', got {on_nan!r}")
    if not isinstance(restore_on_nan, bool):
        raise TypeError(f"restore_on_nan must be True or False, not {restore_on_nan!r}")
    saver = _checkpointer(checkpoint, checkpoint_every, resume, restart)
    run = _prepare_run(X, Y, layer_dims, lr=lr, batch_size=batch_size, shuffle=shuffle,
                       optimizer=optimizer, schedule=schedule, weight_decay=weight_decay,
                       hidden=hidden, output=output, seed=seed, scale=scale, dtype=dtype,
                       backend=backend, params=params, validation_data=validation_data,
                       validation_split=validation_split)
    callbacks = _check_callbacks(callbacks)
    monitor = "val_loss" if run.X_val is not None else "loss"
    stopper = None if early_stopping is None else EarlyStopping(early_stopping, monitor, min_delta)
    history = History()
    first, end = initial_epoch, initial_epoch + epochs
    if saver is not None:
        _check_resumable(run, seed, validation_split)
        saver.describe(_describe(run, hidden=hidden, seed=seed, stopper=stopper,
                                 initial_epoch=initial_epoch, validation_data=validation_data))
        if saver.exists:
            first, history = saver.restore(run.params, run.optimizer, run.rng, stopper,
                                           initial_epoch, end)
    # Early stopping's verdict stands; a callback's stop is a pause that resume=True lifts.
    if history.stop_reason != "early_stopping":
        history.stop_reason = "completed"
        _run_epochs(run, range(first, end), history, stopper, callbacks, on_nan, restore_on_nan,
                    saver, verbose)
    if stopper is not None and stopper.best_params is not None:
        restore_params(run.params, stopper.best_params)
        history.best_epoch = stopper.best_epoch
    return run.params, history


def _run_epochs(run: _Run, epochs: range, history: History, stopper: EarlyStopping | None,
                callbacks: list[Callback], on_nan: str, restore_on_nan: bool,
                saver: Checkpointer | None, verbose: int) -> None:
    """The training loop: ``history`` records each epoch; ``saver`` checkpoints it."""
    # An epoch's loss is measured while its weights change, so the last weights known
    # to give a finite loss are those from the start of the epoch before a bad one. Both
    # copies live in host memory: the device keeps only what the training needs.
    previous_start = None
    # However the training ends, the snapshots' close leaves no copy of the weights running.
    with WeightSnapshots() as snapshots, epoch_progress(len(epochs), verbose) as bar:
        for epoch in epochs:
            start = snapshots.take(run.params) if restore_on_nan else None
            with divergence_reported_by_fit():
                logs, first_bad_batch, weights_finite = _train_epoch(run, epoch,
                                                                     snapshots.before_update)
            if not all(math.isfinite(value) for value in logs.values()) or not weights_finite:
                # A loss can stay finite (probabilities are clipped) while the weights overflow;
                # then this epoch's start holds the last finite weights.
                loss_finite = all(math.isfinite(value) for value in logs.values())
                last_good = start if loss_finite or previous_start is None else previous_start
                if restore_on_nan:
                    snapshots.restore(run.params, last_good)
                history.stop_reason = "non_finite_loss"
                if on_nan == "raise":
                    raise TrainingDivergedError(
                        _divergence_message(logs, epoch, first_bad_batch, restore_on_nan),
                        run.params, history)
                return
            previous_start = start
            history.record(logs)
            show_metrics(bar, logs)
            stop_asked = any([callback(epoch, logs, run.params) for callback in callbacks])
            if stopper is not None and stopper.should_stop(epoch, logs, run.params):
                history.stop_reason = "early_stopping"
            elif stop_asked:
                history.stop_reason = "callback"
            stopping = history.stop_reason != "completed"
            if saver is not None and saver.due(epoch, last=stopping or epoch == epochs[-1]):
                saver.save(epoch + 1, run.params, run.optimizer, run.rng, history, stopper)
            if stopping:
                return


def train(X: Any, Y: Any, layer_dims: Sequence[int], epochs: int, lr: float, *,
          hidden: str = "sigmoid", output: str = "sigmoid", seed: int | None = 3,
          scale: float | str = 0.01, dtype: Any = None,
          backend: Backend | None = None) -> tuple[dict[str, Array], list[float]]:
    """The tutorial's loop: full-batch gradient descent; returns ``(params, cost_history)``.

    ``X`` is ``(n_features, n_samples)`` and ``Y`` ``(n_outputs, n_samples)`` (a 1-D
    ``Y`` is fine for one output). ``cost_history`` holds one Python float per
    epoch: the cost before that epoch's update. The options are :func:`fit`'s.
    """
    params, history = fit(X, Y, layer_dims, epochs=epochs, lr=lr, hidden=hidden, output=output,
                          seed=seed, scale=scale, dtype=dtype, backend=backend, verbose=0)
    return params, history.loss


def _prepare_run(X, Y, layer_dims, *, lr, batch_size, shuffle, optimizer, schedule, weight_decay,
                 hidden, output, seed, scale, dtype, backend, params, validation_data,
                 validation_split) -> _Run:
    layer_dims = check_layer_dims(layer_dims)
    lr = check_positive(lr, "lr")
    hidden = get_activation(hidden, "hidden").name
    output = get_activation(output, "output").name
    X, Y = prepare_data(X, Y, layer_dims, output, backend, dtype)
    xp = namespace_of(X=X)
    rng = host_rng(seed)
    X_val = Y_val = None
    if validation_data is not None:
        if validation_split:
            raise ValueError("pass either validation_data or validation_split, not both")
        X_val, Y_val = _validation_pair(validation_data, layer_dims, output, xp, X.dtype)
    elif validation_split:
        X, Y, X_val, Y_val = _split(X, Y, validation_split, rng)
    optimizer = get_optimizer(optimizer)
    if params is None:
        params = init_params(layer_dims, seed=seed, scale=scale, dtype=X.dtype, backend=xp)
        optimizer.reset()  # an instance reused from another run must not carry its state here
    else:
        _check_initial_params(params, layer_dims, X)
    activations = layer_activations(len(layer_dims) - 1, hidden, output)
    batch_size = _check_batch_size(batch_size, X.shape[1])
    # Samples as rows: a mini-batch is then a slice or a row gather, ~10x cheaper than
    # gathering columns of X, and the GEMMs read the transposed view at full speed.
    X_rows, Y_rows = (contiguous(X.T), contiguous(Y.T)) if batch_size < X.shape[1] else (None, None)
    return _Run(X=X, Y=Y, X_rows=X_rows, Y_rows=Y_rows, X_val=X_val, Y_val=Y_val, params=params,
                output=output, activations=activations, loss=loss_for_output(output),
                optimizer=optimizer, schedule=get_schedule(schedule), lr=lr,
                batch_size=batch_size, shuffle=bool(shuffle),
                weight_decay=check_non_negative(weight_decay, "weight_decay"), rng=rng,
                largest_safe_weight=math.sqrt(float(xp.finfo(X.dtype).max)),
                batch_shares=_batch_shares(X.shape[1], batch_size, xp, X.dtype),
                layerwise=updates_each_layer(optimizer))


def _train_epoch(run: _Run, epoch: int, before_update: Callable[[], None]
                 ) -> tuple[dict[str, float], int | None, bool]:
    """One pass over the data; returns the epoch's metrics as Python floats, the index of
    the first mini-batch whose loss was not finite (None if none was), and whether the
    weights are all finite at the end. ``before_update`` is called before every update
    (the copy of the weights taken at the epoch's start may still be reading them)."""
    xp = namespace_of(X=run.X)
    lr = run.schedule(run.lr, epoch)
    m = run.X.shape[1]
    order = _epoch_order(run, xp)
    losses, correct = [], []
    # The data was checked once in _prepare_run: the loop calls the unchecked forward/backward.
    for start in range(0, m, run.batch_size):
        Xb, Yb = _batch(run, order, start, xp)
        AL, caches = forward(Xb, run.params, run.activations)
        losses.append(run.loss.cost(AL, Yb))
        if run.classifier:
            correct.append(correct_count(AL, Yb, run.output))
        before_update()
        if run.layerwise:
            backward_and_update(AL, Yb, caches, run.params, run.optimizer, lr, run.weight_decay)
        else:  # an optimizer of the user's own, given whole gradients
            grads = backward(AL, Yb, caches, input_gradient=False)
            _add_weight_decay(grads, run.params, run.weight_decay)
            run.optimizer.step(run.params, grads, lr)
    batch_losses = xp.stack(losses)
    # Weighting by the batches' shares keeps a single batch's cost exact.
    metrics = {"loss": xp.sum(batch_losses * run.batch_shares)}
    if run.classifier:
        metrics["accuracy"] = xp.sum(xp.stack(correct)) / m
    if run.X_val is not None:
        metrics.update(_validation_metrics(run))
    # Overflowing weights are caught here even when the clipped loss stays finite: past
    # sqrt(largest float) a layer's products can overflow (NaN compares false below).
    # max(max, -min) rather than max(abs): no weight-sized temporary (NaN still propagates).
    metrics["largest_weight"] = xp.max(xp.stack([xp.maximum(xp.max(a), -xp.min(a))
                                                 for a in run.params.values()]))
    # The epoch's one device -> host transfer: every metric and the batches' losses at once.
    values = to_numpy(xp.concat([xp.stack([xp.asarray(v, dtype=run.X.dtype)
                                           for v in metrics.values()]), batch_losses])).tolist()
    weights_finite = values[len(metrics) - 1] <= run.largest_safe_weight
    logs = {**dict(zip(metrics, values[:len(metrics) - 1])), "lr": lr}
    bad = [i for i, value in enumerate(values[len(metrics):]) if not math.isfinite(value)]
    return logs, (bad[0] if bad else None), weights_finite


def _batch_shares(m: int, batch_size: int, xp: Any, dtype: Any) -> Array:
    """Each mini-batch's share of the ``m`` samples (the last batch may be smaller)."""
    sizes = [min(batch_size, m - start) for start in range(0, m, batch_size)]
    return xp.asarray([size / m for size in sizes], dtype=dtype)


def _validation_metrics(run: _Run) -> dict[str, Array]:
    AL, _ = forward(run.X_val, run.params, run.activations)
    metrics = {"val_loss": run.loss.cost(AL, run.Y_val)}
    if run.classifier:
        metrics["val_accuracy"] = correct_count(AL, run.Y_val, run.output) / AL.shape[1]
    return metrics


def _epoch_order(run: _Run, xp: Any) -> Array | None:
    """This epoch's sample order on the device, or None to take the samples as they are."""
    m = run.X.shape[1]
    if not run.shuffle or run.batch_size >= m:
        return None
    # Drawn on the host from the seed (the same on every backend), gathered on the device.
    return asarray(run.rng.permutation(m), xp)


def _batch(run: _Run, order: Array | None, start: int, xp: Any) -> tuple[Array, Array]:
    if run.X_rows is None:
        return run.X, run.Y
    stop = min(start + run.batch_size, run.X.shape[1])  # array-api-strict refuses slices past the end
    if order is None:
        return run.X_rows[start:stop, :].T, run.Y_rows[start:stop, :].T
    indices = order[start:stop]
    return xp.take(run.X_rows, indices, axis=0).T, xp.take(run.Y_rows, indices, axis=0).T


def _add_weight_decay(grads: dict[str, Array], params: Mapping[str, Array], weight_decay: float) -> None:
    if weight_decay:
        for l in range(1, n_layers(params) + 1):
            W_key, _ = layer_keys(l)
            grads[gradient_key(W_key)] = grads[gradient_key(W_key)] + weight_decay * params[W_key]


def _split(X: Array, Y: Array, fraction: float, rng: Any) -> tuple[Array, Array, Array, Array]:
    """A random ``fraction`` of the samples held out for validation."""
    check_fraction(fraction, "validation_split", allow_zero=False)
    m = X.shape[1]
    n_val = int(round(fraction * m))
    if not 1 <= n_val < m:
        raise ValueError(f"validation_split={fraction} of {m} samples leaves {n_val} for validation "
                         "and needs at least one on each side; use more data or another fraction")
    xp = namespace_of(X=X)
    order = asarray(rng.permutation(m), xp)
    train_idx, val_idx = order[n_val:], order[:n_val]
    return (xp.take(X, train_idx, axis=1), xp.take(Y, train_idx, axis=1),
            xp.take(X, val_idx, axis=1), xp.take(Y, val_idx, axis=1))


def _validation_pair(validation_data: Any, layer_dims: list[int], output: str, xp: Any,
                     dtype: Any) -> tuple[Array, Array]:
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise TypeError("validation_data must be a pair (X_val, Y_val)")
    return prepare_data(validation_data[0], validation_data[1], layer_dims, output, xp, dtype,
                        names=("validation_data[0]", "validation_data[1]"))


def _check_initial_params(params: Any, layer_dims: list[int], X: Array) -> None:
    if layer_dims_of(params) != layer_dims:
        raise ValueError(f"params were built for layer_dims {layer_dims_of(params)}, not {layer_dims}")
    namespace_of(X=X, **params)
    W1 = params[layer_keys(1)[0]]
    if W1.dtype != X.dtype:
        raise TypeError(f"params have dtype {W1.dtype} but X has {X.dtype}; "
                        "pass dtype= to match the parameters")


def _check_batch_size(batch_size: Any, m: int) -> int:
    if batch_size is None:
        return m
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be an int >= 1 or None (full batch), "
                        f"not {type(batch_size).__name__} {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1 or None (full batch), got {batch_size!r}")
    return min(int(batch_size), m)


def _checkpointer(checkpoint: Any, every: Any, resume: Any, restart: Any) -> Checkpointer | None:
    every = check_count(every, "checkpoint_every", minimum=1)
    for name, flag in (("resume", resume), ("restart", restart)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, not {flag!r}")
    if resume and restart:
        raise ValueError("pass resume=True (continue the checkpoint's run) or restart=True (start "
                         "a new run over it), not both")
    if checkpoint is None:
        if resume or restart:
            raise ValueError("resume=True and restart=True need checkpoint=PATH")
        return None
    return Checkpointer(checkpoint, every, resume, restart)


def _check_resumable(run: _Run, seed: Any, validation_split: Any) -> None:
    if seed is None and validation_split:
        raise ValueError("checkpoint= with validation_split needs a seed: a resumed run must hold "
                         "out the same samples; pass seed=0 (or any int)")
    # A custom optimizer must be able to save its state before the first epoch is spent.
    run.optimizer.get_state()


def _describe(run: _Run, *, hidden: str, seed: Any, stopper: EarlyStopping | None,
              initial_epoch: int, validation_data: Any) -> dict[str, Any]:
    """The settings and data a resumed run must share with the run that wrote its checkpoint."""
    return {"layer_dims": layer_dims_of(run.params), "hidden": hidden, "output": run.output,
            "dtype": dtype_name(run.X.dtype), "n_samples": int(run.X.shape[1]),
            "optimizer": repr(run.optimizer), "schedule": repr(run.schedule), "lr": run.lr,
            "batch_size": run.batch_size, "shuffle": run.shuffle,
            "weight_decay": run.weight_decay, "seed": None if seed is None else int(seed),
            "early_stopping": None if stopper is None else [stopper.patience, stopper.min_delta],
            "initial_epoch": initial_epoch, "validation": validation_data is not None,
            "data": data_fingerprint(run.X, run.Y, run.X_val, run.Y_val)}


def _check_callbacks(callbacks: Any) -> list[Callback]:
    callbacks = list(callbacks)
    for i, callback in enumerate(callbacks):
        if not callable(callback):
            raise TypeError(f"callbacks[{i}] must be callable as callback(epoch, logs, params), "
                            f"not {type(callback).__name__}")
    return callbacks


def _divergence_message(logs: Mapping[str, float], epoch: int, batch: int | None,
                        restored: bool = True) -> str:
    bad = ", ".join(f"{name}={value}" for name, value in logs.items()
                    if not math.isfinite(value)) or "the weights grew too large to compute with (or overflowed)"
    where = f"epoch {epoch}" if batch is None else f"epoch {epoch}, mini-batch {batch}"
    kept = ("The last weights with a finite loss are kept" if restored else
            "The weights are left as they were when it was found (restore_on_nan=False)")
    return (f"training diverged at {where}: {bad}. {kept} (error.params, with error.history); "
            "lower the learning rate (lr) or scale the input features")
