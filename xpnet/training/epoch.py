"""One epoch: every mini-batch through the training step, and the epoch's metrics.

The metrics (each batch's loss and hits, the validation loss, the largest weight) stay
on the device until the epoch ends, then come back in one transfer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..backend import asarray, namespace_of, to_numpy
from ..network import forward
from .run import TrainingRun
from .step import backward_and_update

Array = Any


def train_epoch(run: TrainingRun, epoch: int, before_update: Callable[[], None]
                ) -> tuple[dict[str, float], list[float], bool]:
    """One pass over the data; returns the epoch's metrics and each mini-batch's loss
    (measured before its update) as Python floats, and whether the weights are all finite
    at the end. ``before_update`` is called before every update
    (the copy of the weights taken at the epoch's start may still be reading them)."""
    o = run.options
    xp = namespace_of(X=run.X)
    lr = o.schedule(o.lr, epoch)
    m = run.X.shape[1]
    host_order = _host_order(run)
    order = None if host_order is None else asarray(host_order, xp)
    losses, correct = [], []
    # The data was checked once in prepare_run: the loop calls the unchecked forward.
    for start in range(0, m, run.batch_size):
        Xb, Yb = _batch(run, order, start, xp)
        weights, decay = _batch_weights(run, host_order, order, start, xp)
        AL, caches = forward(Xb, run.params, run.activations)
        losses.append(o.output.cost(AL, Yb, weights))
        if o.output.classifier:
            correct.append(o.output.correct_count(AL, Yb))
        before_update()
        backward_and_update(AL, Yb, caches, run.params, o.output, o.optimizer, lr, decay, weights)
    batch_losses = xp.stack(losses)
    # Weighting by the batches' shares keeps a single batch's cost exact.
    metrics = {"loss": xp.sum(batch_losses * run.batch_shares)}
    if o.output.classifier:
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
    return logs, values[len(metrics):], weights_finite


def _validation_metrics(run: TrainingRun) -> dict[str, Array]:
    output = run.options.output
    AL, _ = forward(run.X_val, run.params, run.activations)
    metrics = {"val_loss": output.cost(AL, run.Y_val)}
    if output.classifier:
        metrics["val_accuracy"] = output.correct_count(AL, run.Y_val) / AL.shape[1]
    return metrics


def _host_order(run: TrainingRun) -> Any:
    """This epoch's sample order on the host, or None to take the samples as they are."""
    m = run.X.shape[1]
    if not run.options.shuffle or run.batch_size >= m:
        return None
    # Drawn on the host from the seed (the same on every backend), gathered on the device.
    return run.rng.permutation(m)


def _batch_weights(run: TrainingRun, host_order: Any, order: Array | None, start: int,
                   xp: Any) -> tuple[Array | None, float]:
    """The batch's sample weights (a ``(1, n)`` row summing to 1, or None without
    ``sample_weight``) and its weight decay: the option's, or (``decay_per_sample``) the
    option's divided by the batch's sample count or weight sum, from host numbers."""
    o = run.options
    stop = min(start + run.batch_size, run.X.shape[1])
    if run.sample_weight is None:
        return None, o.weight_decay / (stop - start) if o.decay_per_sample else o.weight_decay
    batch = slice(start, stop) if host_order is None else host_order[start:stop]
    total = float(run.host_weights[batch].sum())
    weights = run.sample_weight[start:stop] if order is None else \
        xp.take(run.sample_weight, order[start:stop], axis=0)
    if total == 0:  # a batch of zero weights adds nothing to the loss or the gradients
        return xp.reshape(weights, (1, stop - start)), 0.0
    decay = o.weight_decay / total if o.decay_per_sample else o.weight_decay
    return xp.reshape(weights, (1, stop - start)) * (1.0 / total), decay


def _batch(run: TrainingRun, order: Array | None, start: int, xp: Any) -> tuple[Array, Array]:
    if run.X_rows is None:
        return run.X, run.Y
    stop = min(start + run.batch_size, run.X.shape[1])  # array-api-strict refuses slices past the end
    if order is None:
        return run.X_rows[start:stop, :].T, run.Y_rows[start:stop, :].T
    indices = order[start:stop]
    return xp.take(run.X_rows, indices, axis=0).T, xp.take(run.Y_rows, indices, axis=0).T
