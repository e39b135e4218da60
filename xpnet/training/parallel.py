"""Data parallelism: every rank computes its share of each mini-batch, and one sum over
the ranks per step makes the step the one a single process would take.

Each mini-batch of the global ``batch_size`` is cut into one contiguous piece per rank
(sizes differ by at most one sample). A rank's gradients are its piece's mean gradient
weighted by the piece's share of the batch (of its samples, or of their weight with
``sample_weight``), so the sum over the ranks is the whole batch's mean gradient,
uneven pieces included; they travel as one flat buffer (one
Allreduce per step), and every rank then applies the same update to the same weights.
The epoch's metrics (each batch's loss, the hits, the validation loss) are summed the
same way once per epoch, so every rank takes the same decisions (early stopping,
divergence, callbacks' stop).

In a grid of both kinds (``parallel=("data", "tensor")``) the same epoch runs over each
rank's data group (the ranks holding the same share of the network, one in each tensor
group), with the forward and backward passes of :mod:`xpnet.training.tensor` inside
its tensor group: the flat buffer then holds this rank's share's gradients.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

from ..backend import in_place, namespace_of
from ..distributed import Transport
from ..gradients import Gradient
from ..network import LayerCache, forward, layer_gradients
from ..outputs import Output
from ..parameters import layer_keys, restore_params
from .epoch import batch_rows, batch_weights, epoch_logs, epoch_order
from .run import TrainingRun

Array = Any


def piece(start: int, stop: int, rank: int, size: int) -> tuple[int, int]:
    """Rank ``rank``'s part ``[lo, hi)`` of the items ``[start, stop)`` cut into ``size``
    contiguous pieces whose sizes differ by at most one (the first ones larger)."""
    n = stop - start
    base, extra = divmod(n, size)
    lo = start + rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def update_order(params: Mapping[str, Array]) -> list[str]:
    """The parameters in the order the backward pass makes their gradients (output layer
    first, ``W`` before ``b``): the layout of the flat gradient buffer. ``params`` may be
    a rank's share of a tensor-parallel network, whose shapes do not chain."""
    return [key for l in reversed(range(1, len(params) // 2 + 1)) for key in layer_keys(l)]


def flatten(arrays: list[Array]) -> Array:
    """One 1-D array holding ``arrays`` one after the other."""
    xp = namespace_of(first=arrays[0])
    return xp.concat([xp.reshape(a, (-1,)) for a in arrays])


def unflatten(flat: Array, params: Mapping[str, Array], keys: list[str]) -> Iterator[tuple[str, Array]]:
    """``(key, view)`` pairs: ``flat`` cut back into arrays shaped like ``params[key]``."""
    xp = namespace_of(flat=flat)
    offset = 0
    for key in keys:
        shape = tuple(params[key].shape)
        size = math.prod(shape)
        yield key, xp.reshape(flat[offset:offset + size], shape)
        offset += size


def broadcast_params(transport: Transport, params: MutableMapping[str, Array]) -> None:
    """Rank 0's weights into every rank's ``params`` (one broadcast of one buffer)."""
    keys = update_order(params)
    flat = transport.broadcast(flatten([params[key] for key in keys]))
    restore_params(params, dict(unflatten(flat, params, keys)))


def weighted_gradients(AL: Array, Y: Array, caches: list[LayerCache], output: Output,
                       weight_decay: float, share: float, weights: Array | None = None,
                       tensor: Any = None) -> Array:
    """This rank's gradients (of its piece's mean cost, or weighted mean with ``weights``)
    times its ``share`` of the batch, as one flat buffer; with ``tensor`` (a grid's
    :class:`~xpnet.training.tensor.TensorParallel`) those of this rank's share of the
    network, in the same order. ``caches`` are spent (see
    :func:`~xpnet.network.layer_errors`)."""
    grads = []
    if tensor is None:
        for _, dA_prev, dW, db in layer_gradients(AL, Y, caches, output,
                                                  weight_decay=weight_decay, weights=weights,
                                                  spend=True):
            grads += [dW.value(), db.value()]
            del dA_prev, dW, db  # spent: let the layer's dZ and input go before the next's
    else:  # each taken as it comes: the generator's sums run in step on the group's ranks
        grads = [g.value() for _, g in tensor.gradients(AL, Y, caches, output, weight_decay,
                                                         weights)]
    # The buffer is this step's own: scaled where it lies, no second weight-sized array.
    return in_place(flatten(grads), operator.mul, share)


def train_epoch_on_ranks(run: TrainingRun, epoch: int, before_update: Callable[[], None]
                         ) -> tuple[dict[str, float], list[float], bool]:
    """:func:`~xpnet.training.epoch.train_epoch` with each mini-batch shared by the ranks
    of ``run.data_transport``; returns the same, the same on every rank. In a grid each
    piece goes through the network's shares of this rank's tensor group (all of whose
    ranks take the same piece), and the sums over the data group add up the copies of
    this rank's share."""
    o, transport = run.options, run.data_transport
    forward_pass = forward if run.tensor is None else run.tensor.forward
    xp = namespace_of(X=run.X)
    dtype = run.X.dtype
    lr = o.schedule(o.lr, epoch)
    m = run.X.shape[1]
    host_order, order = epoch_order(run, xp)
    keys = update_order(run.params)
    n_weights = sum(int(xp.reshape(run.params[key], (-1,)).shape[0]) for key in keys)
    zero = xp.zeros((), dtype=dtype)
    weighted_losses, hits = [], []
    for start in range(0, m, run.batch_size):
        stop = min(start + run.batch_size, m)
        lo, hi = piece(start, stop, transport.rank, transport.size)
        weights, decay, share = batch_weights(run, host_order, order, (start, stop), (lo, hi), xp)
        if hi > lo:
            Xb, Yb = batch_rows(run, order, lo, hi)
            AL, caches = forward_pass(Xb, run.params, run.activations)
            weighted_losses.append(o.output.cost(AL, Yb, weights) * share)
            hits.append(xp.asarray(o.output.correct_count(AL, Yb), dtype=dtype)
                        if o.output.classifier else zero)
            flat = weighted_gradients(AL, Yb, caches, o.output, decay, share, weights,
                                      run.tensor)
            del Xb, Yb, AL, caches  # spent: not alive while the next batch's are made
        else:  # a last batch smaller than the number of ranks leaves some without samples
            weighted_losses.append(zero)
            hits.append(zero)
            flat = xp.zeros((n_weights,), dtype=dtype)
        flat = transport.allreduce_sum(flat)
        before_update()
        o.optimizer.step_each(run.params, ((key, Gradient(g, owned=True))
                                           for key, g in unflatten(flat, run.params, keys)), lr)
    sums = transport.allreduce_sum(xp.stack(
        [*weighted_losses, xp.sum(xp.stack(hits)), *_validation_sums(run, dtype)]))
    if run.tensor is not None:
        # A grid: each data group summed the same numbers over its own communicator, whose
        # order of summing (NCCL picks one per communicator) may differ in the last bit;
        # every rank takes its tensor group's rank 0's (all in one data group), so that all
        # decide alike on early stopping and divergence.
        sums = run.tensor.transport.broadcast(sums)
    n_batches = len(weighted_losses)
    batch_losses = sums[:n_batches]
    metrics = {"loss": xp.sum(batch_losses * run.batch_shares)}
    if o.output.classifier:
        metrics["accuracy"] = sums[n_batches] / m
    if run.X_val is not None:
        metrics["val_loss"] = sums[n_batches + 1]
        if o.output.classifier:
            metrics["val_accuracy"] = sums[n_batches + 2] / run.n_validation
    return epoch_logs(run, metrics, batch_losses, lr)


def _validation_sums(run: TrainingRun, dtype: Any) -> list[Array]:
    """This rank's part of the validation loss (weighted by its share) and hits."""
    if run.X_val is None:
        return []
    xp = namespace_of(X=run.X_val)
    n = run.X_val.shape[1]
    if n == 0:
        return [xp.zeros((), dtype=dtype)] * 2
    forward_pass = forward if run.tensor is None else run.tensor.forward
    AL, _ = forward_pass(run.X_val, run.params, run.activations)
    output = run.options.output
    hits = output.correct_count(AL, run.Y_val) if output.classifier else 0
    return [output.cost(AL, run.Y_val) * (n / run.n_validation), xp.asarray(hits, dtype=dtype)]
