"""One epoch: every mini-batch through the training step, and the epoch's metrics.

The metrics (each batch's loss and hits, the validation loss, the largest weight) stay
on the device until the epoch ends, then come back in one transfer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..backend import array_namespace, asarray, to_numpy
from ..network import forward
from ..step_ops import take
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
    xp = array_namespace(run.X)
    lr = o.schedule(o.lr, epoch)
    m = run.X.shape[1]
    host_order, order = epoch_order(run, xp)
    losses, correct = [], []
    # Tensor parallel: this rank's share of the network, with the ranks' sums in between.
    forward_pass, update = ((forward, backward_and_update) if run.tensor is None
                            else (run.tensor.forward, run.tensor.backward_and_update))
    # The data was checked once in prepare_run: the loop calls the unchecked forward.
    for start in range(0, m, run.batch_size):
        Xb, Yb = _batch(run, order, start)
        batch = (start, min(start + run.batch_size, m))
        weights, decay, _ = batch_weights(run, host_order, order, batch, batch, xp)
        AL, caches = forward_pass(Xb, run.params, run.activations)
        losses.append(o.output.cost(AL, Yb, weights))
        if o.output.classifier:
            correct.append(o.output.correct_count(AL, Yb))
        before_update()
        update(AL, Yb, caches, run.params, o.output, o.optimizer, lr, decay, weights)
        # The batch and its activations are spent: let them go before the next batch's
        # are made (else the step's peak memory holds two batches' activations).
        del Xb, Yb, weights, AL, caches
    batch_losses = xp.stack(losses)
    # Weighting by the batches' shares keeps a single batch's cost exact.
    metrics = {"loss": xp.sum(batch_losses * run.batch_shares)}
    if o.output.classifier:
        metrics["accuracy"] = xp.sum(xp.stack(correct)) / m
    if run.X_val is not None:
        metrics.update(_validation_metrics(run))
    return epoch_logs(run, metrics, batch_losses, lr)


def epoch_logs(run: TrainingRun, metrics: dict[str, Array], batch_losses: Array, lr: float
               ) -> tuple[dict[str, float], list[float], bool]:
    """The epoch's ``metrics`` (device scalars) and batch losses as Python floats, brought
    back in one transfer with each parameter's extremes; returns what :func:`train_epoch` does."""
    xp = array_namespace(run.X)
    # Overflowing weights are caught here even when the clipped loss stays finite: past
    # sqrt(largest float) a layer's products can overflow. Each array's max and min rather
    # than max(abs): no weight-sized temporary (and NaN compares false below).
    extremes = [extreme(a) for a in run.params.values() for extreme in (xp.max, xp.min)]
    scalars = [xp.asarray(v, dtype=run.X.dtype) for v in metrics.values()] + extremes
    # The epoch's one device -> host transfer: every metric, the extremes and the batches' losses.
    values = to_numpy(xp.concat([xp.stack(scalars), batch_losses])).tolist()
    n = len(metrics)
    weights_finite = all(abs(v) <= run.largest_safe_weight for v in values[n:len(scalars)])
    if run.tensor is not None:  # each rank checked its own share of the weights
        weights_finite = run.tensor.all_ranks(weights_finite)
    logs = {**dict(zip(metrics, values[:n])), "lr": lr}
    return logs, values[len(scalars):], weights_finite


def _validation_metrics(run: TrainingRun) -> dict[str, Array]:
    output = run.options.output
    forward_pass = forward if run.tensor is None else run.tensor.forward
    AL, _ = forward_pass(run.X_val, run.params, run.activations)
    metrics = {"val_loss": output.cost(AL, run.Y_val)}
    if output.classifier:
        metrics["val_accuracy"] = output.correct_count(AL, run.Y_val) / AL.shape[1]
    return metrics


def epoch_order(run: TrainingRun, xp: Any) -> tuple[Any, Array | None]:
    """This epoch's sample order on the host and on the device, or ``(None, None)`` to take
    the samples as they are."""
    m = run.X.shape[1]
    if not run.options.shuffle or run.batch_size >= m:
        return None, None
    # Drawn on the host from the seed (the same on every backend), gathered on the device.
    host = run.rng.permutation(m)
    return host, asarray(host, xp)


def batch_weights(run: TrainingRun, host_order: Any, order: Array | None, batch: tuple[int, int],
                  piece: tuple[int, int], xp: Any) -> tuple[Array | None, float, float]:
    """For the samples ``piece`` (a ``[lo, hi)`` range) of the mini-batch ``batch``:
    their weights (a ``(1, n)`` row summing to 1 over the piece, or None without
    ``sample_weight``), the batch's weight decay (the option's, or with
    ``decay_per_sample`` the option's divided by the batch's sample count or weight sum)
    and the piece's share of the batch (by weight, or by count), from host numbers."""
    o = run.options
    (start, stop), (lo, hi) = batch, piece
    if run.sample_weight is None:
        decay = o.weight_decay / (stop - start) if o.decay_per_sample else o.weight_decay
        return None, decay, (hi - lo) / (stop - start)
    in_batch = run.host_weights[slice(start, stop) if host_order is None else host_order[start:stop]]
    total, part = float(in_batch.sum()), float(in_batch[lo - start:hi - start].sum())
    weights = xp.reshape(run.sample_weight[lo:hi] if order is None else
                         xp.take(run.sample_weight, order[lo:hi], axis=0), (1, hi - lo))
    if total == 0:  # a batch of zero weights adds nothing to the loss or the gradients
        return weights, 0.0, 0.0
    decay = o.weight_decay / total if o.decay_per_sample else o.weight_decay
    if part == 0:  # (a piece of zero weights: nothing from it, its share 0)
        return weights, decay, 0.0
    return weights * (1.0 / part), decay, part / total


def _batch(run: TrainingRun, order: Array | None, start: int) -> tuple[Array, Array]:
    if run.X_rows is None:
        return run.X, run.Y
    # array-api-strict refuses slices past the end
    return batch_rows(run, order, start, min(start + run.batch_size, run.X.shape[1]))


def batch_rows(run: TrainingRun, order: Array | None, start: int, stop: int
               ) -> tuple[Array, Array]:
    """Samples ``start:stop`` of this epoch's ``order`` (None: as stored) as ``(X, Y)``."""
    if order is None:
        return run.X_rows[start:stop, :].T, run.Y_rows[start:stop, :].T
    indices = order[start:stop]
    return take(run.X_rows, indices, 0).T, take(run.Y_rows, indices, 0).T
