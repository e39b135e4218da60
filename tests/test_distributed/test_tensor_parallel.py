"""Tensor parallelism on every backend, ranks played by threads: the forward output, the
gradients and the weights after training equal the unsplit network's."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import xpnet
from xpnet.backend import to_numpy
from xpnet.network import forward, layer_activations
from xpnet.outputs import get_output
from xpnet.training.ranks import check_parallel
from xpnet.training.tensor import (TensorParallel, _writeable, gather_params, init_shard,
                                   shard_params, tensor_layout)

from .threads import ThreadTransport, fit_on_threads, on_threads

DIMS = [5, 7, 6, 3]


def data(xp, m=40):
    rng = np.random.RandomState(4)
    X = rng.randn(5, m)
    labels = (X[0] > 0).astype(int) + (X[1] > 0.5).astype(int)
    return xpnet.asarray(X, xp, "float64"), xpnet.asarray(np.eye(3)[labels].T, xp, "float64")


@pytest.mark.parametrize("size", [2, 3])
def test_forward_and_gradients_equal_the_unsplit_networks(xp, size):
    X, Y = data(xp)
    whole = xpnet.init_params(DIMS, seed=1, scale="xavier", backend=xp, dtype="float64")
    activations = layer_activations(3, "tanh", "softmax")
    AL, caches = forward(X, whole, activations)
    grads = xpnet.backprop(AL, Y, caches, input_gradient=False)
    output = get_output("softmax")

    def work(rank, transport):
        share = shard_params(whole, transport)
        tensor = TensorParallel(tensor_layout(DIMS, rank, size), transport)
        AL_share, caches_share = tensor.forward(X, share, activations)
        hidden = [weakref.ref(c.A) for c in caches_share[:-1] if isinstance(c.A, np.ndarray)]
        gradients = {key: to_numpy(g.value()) for key, g in
                     tensor.gradients(AL_share, Y, caches_share, output, 0.0)}
        # The caches are the training step's: each hidden layer's output went once spent.
        assert [ref() for ref in hidden] == [None] * len(hidden)
        return to_numpy(AL_share), gradients

    for rank, (AL_share, gradients) in enumerate(on_threads(size, work)):
        np.testing.assert_allclose(AL_share, to_numpy(AL), rtol=1e-12, atol=1e-15)
        layout = tensor_layout(DIMS, rank, size)
        for key, value in gradients.items():
            expected = to_numpy(grads["d" + key])
            l = int(key[1:])
            if key[0] == "W":
                (r0, r1), (c0, c1) = layout.weight_span(l)
                expected = expected[r0:r1, c0:c1]
            else:
                lo, hi = layout.units(l)
                expected = expected[lo:hi]
            np.testing.assert_allclose(value, expected, rtol=1e-10, atol=1e-14)


class ReadOnlySums(ThreadTransport):
    """Sums handed back as read-only arrays, which a Transport may do."""

    def allreduce_sum(self, flat):
        total = super().allreduce_sum(flat)
        total.flags.writeable = False
        return total


def test_a_transport_may_hand_back_read_only_sums():
    X, _ = data(np)
    whole = xpnet.init_params(DIMS, seed=1, backend="numpy", dtype="float64")
    activations = layer_activations(3, "relu", "softmax")  # each adds its bias into Z

    def work(rank, transport):
        transport = ReadOnlySums(transport.ranks, rank)
        tensor = TensorParallel(tensor_layout(DIMS, rank, 2), transport)
        return tensor.forward(X, shard_params(whole, transport), activations)[0]

    for AL in on_threads(2, work):
        np.testing.assert_allclose(AL, forward(X, whole, activations)[0], rtol=1e-12)


def test_a_sum_is_handed_on_as_it_is_where_the_activation_may_write_into_it(xp):
    # Writeable arrays, and JAX's (never written in place: ``+=`` makes a new array).
    Z = xpnet.asarray(np.ones((2, 3)), xp)
    assert _writeable(Z) is Z


def test_a_read_only_sum_is_copied_since_the_activation_writes_into_it():
    read_only = np.ones((2, 3))  # relu's ``Z += b`` would fail on it
    read_only.flags.writeable = False
    copied = _writeable(read_only)
    assert copied is not read_only and copied.flags.writeable
    np.testing.assert_array_equal(copied, read_only)


@pytest.mark.parametrize("size", [2, 3])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_fit_tensor_parallel_equals_fit_alone(xp, size, optimizer):
    X, Y = data(xp)
    options = dict(epochs=4, batch_size=8, seed=6, optimizer=optimizer, hidden="relu",
                   output="softmax", lr=0.1 if optimizer != "adam" else 0.01,
                   weight_decay=1e-3, validation_split=0.25, verbose=0)
    alone, history = xpnet.fit(X, Y, DIMS, **options)
    results = fit_on_threads(size, X, Y, DIMS, parallel="tensor",
                             then=lambda t, r: (gather_params(r[0], t), r[1]), **options)
    assert not any(isinstance(r, BaseException) for r in results), results
    whole, shared_history = results[0]
    assert whole.description == alone.description  # gathered, the shares' description stays
    for key in alone:
        np.testing.assert_allclose(to_numpy(whole[key]), to_numpy(alone[key]), rtol=1e-12,
                                   atol=1e-14)
    np.testing.assert_allclose(shared_history.loss, history.loss, rtol=1e-12)
    np.testing.assert_allclose(shared_history.val_loss, history.val_loss, rtol=1e-12)
    assert results[1][0] is None  # the whole network on rank 0 only


def test_each_rank_holds_its_share_of_the_weights():
    X, Y = data("numpy")
    results = fit_on_threads(3, X, Y, [5, 10, 8, 3], parallel="tensor", epochs=1, verbose=0,
                             output="softmax")
    shapes = [{k: tuple(v.shape) for k, v in params.items()} for params, _ in results]
    assert shapes[0] == {"W1": (4, 5), "b1": (4, 1), "W2": (8, 4), "b2": (3, 1),
                         "W3": (3, 3), "b3": (3, 1)}
    assert shapes[2] == {"W1": (3, 5), "b1": (3, 1), "W2": (8, 3), "b2": (2, 1),
                         "W3": (3, 2), "b3": (3, 1)}


def test_tensor_parallel_refuses_what_it_cannot_split():
    X, Y = data("numpy")
    with pytest.raises(ValueError, match="needs at least 3 units in every hidden layer"):
        tensor_layout([5, 2, 3], 0, 3)
    with pytest.raises(ValueError, match="has none"):
        tensor_layout([5, 3], 0, 2)
    with pytest.raises(ValueError, match="pass comm"):
        xpnet.fit(X, Y, DIMS, parallel="tensor", output="softmax")
    with pytest.raises(ValueError, match="'data', 'tensor' or"):
        check_parallel("pipeline", object())


# A run to pause after its second epoch (pause_after_epoch_1) and resume, with state to
# carry over: Adam's moments, early stopping's best weights, a validation split.
PAUSED_RUN = dict(batch_size=8, seed=6, optimizer="adam", hidden="relu", output="softmax",
                  lr=0.01, validation_split=0.25, early_stopping=20, verbose=0)


def pause_after_epoch_1(epoch, logs, params):
    return epoch == 1


def test_a_checkpoint_of_shares_resumes_on_other_rank_counts_and_alone(xp, tmp_path):
    """The file holds the whole network: written by 2 ranks, resumed by 3, by one process;
    and one process's checkpoint resumed by 2 ranks. Each equals the run never paused."""
    X, Y = data(xp)
    options = PAUSED_RUN
    alone, history = xpnet.fit(X, Y, DIMS, epochs=6, **options)

    def whole(results):
        assert not any(isinstance(r, BaseException) for r in results), results
        return results[0][0]

    def check(params):
        for key in alone:
            np.testing.assert_allclose(to_numpy(params[key]), to_numpy(alone[key]),
                                       rtol=1e-12, atol=1e-14)

    def run(where, **options):
        """fit alone (None), or on ``(ranks, parallel)``; the whole network it ends with."""
        if where is None:
            return xpnet.fit(X, Y, DIMS, **options)[0]
        size, parallel = where
        then = (lambda t, r: (gather_params(r[0], t), r[1])) if parallel == "tensor" else None
        return whole(fit_on_threads(size, X, Y, DIMS, parallel=parallel, then=then, **options))

    tensor_2, tensor_3, data_2 = (2, "tensor"), (3, "tensor"), (2, "data")
    for first, then in ((tensor_2, tensor_3), (tensor_2, None), (None, tensor_2),
                        (tensor_2, data_2)):
        path = tmp_path / f"{first}-{then}.ckpt.npz"
        run(first, epochs=6, checkpoint=path, callbacks=[pause_after_epoch_1], **options)
        check(run(then, epochs=6, checkpoint=path, resume=True, **options))


def test_a_checkpoint_of_another_network_is_refused_on_every_rank(tmp_path):
    X, Y = data("numpy")
    path = tmp_path / "run.ckpt.npz"
    options = dict(epochs=1, output="softmax", verbose=0, checkpoint=path)
    xpnet.fit(X, Y, [5, 9, 3], **options)
    errors = fit_on_threads(2, X, Y, [5, 8, 3], parallel="tensor", resume=True, **options)
    assert all(isinstance(e, (ValueError, xpnet.errors.RankFailedError)) for e in errors)
    assert "layer_dims" in str(errors[0]) and "other settings" in str(errors[0])


@pytest.mark.parametrize("block", [1 << 22, 40])  # one block per layer; a few rows per block
def test_each_share_is_drawn_as_the_unsplit_networks_part(xp, monkeypatch, block):
    monkeypatch.setattr("xpnet.network._DRAW_BLOCK", block)
    dims = [8, 13, 11, 3]
    whole = xpnet.init_params(dims, seed=2, scale="he", backend=xp, dtype="float64")
    for rank in range(3):
        layout = tensor_layout(dims, rank, 3)
        share = init_shard(layout, seed=2, scale="he", dtype=whole["W1"].dtype, xp=xp)
        for l in (1, 2, 3):
            (r0, r1), (c0, c1) = layout.weight_span(l)
            np.testing.assert_array_equal(to_numpy(share[f"W{l}"]),
                                          to_numpy(whole[f"W{l}"])[r0:r1, c0:c1])
