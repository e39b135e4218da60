"""Peak memory of training on NumPy, traced by tracemalloc (which sees NumPy's arrays): the
backward pass and the epoch loop let each array go as soon as it is spent."""

from __future__ import annotations

import tracemalloc

import numpy as np

import xpnet
from xpnet.network import forward, layer_activations
from xpnet.training import fit
from xpnet.training.optimizers import SGD
from xpnet.training.step import backward_and_update

DIMS, BATCH = [16, 256, 256, 256, 4], 512  # a hidden layer's batch of activations: 1 MiB
LAYER_BYTES = DIMS[1] * BATCH * 8  # (float64)
ACTIVATIONS = layer_activations(len(DIMS) - 1, "relu", "softmax")


def _data(batches: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(0)
    X = rng.randn(DIMS[0], batches * BATCH)
    Y = np.eye(DIMS[-1])[:, rng.randint(DIMS[-1], size=batches * BATCH)]
    return X, Y


def _traced_peak(call) -> int:
    """The most memory ``call`` held beyond what was held when it started, in bytes."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        call()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_the_backward_pass_lets_each_input_gradient_go_before_the_next_product():
    params = xpnet.init_params(DIMS, scale="he", backend="numpy")
    X, Y = _data()
    AL, caches = forward(X, params, ACTIVATIONS)
    peak = _traced_peak(lambda: backward_and_update(AL, Y, caches, params, "softmax", SGD(),
                                                    1e-3))
    # At most a layer's dZ and the next dA and the layer's dW (2.5 layers here); keeping
    # each dA until the next product was made held three layers' worth (dA, dZ, next dA).
    assert peak < 2.75 * LAYER_BYTES, peak / LAYER_BYTES


def test_fit_holds_one_batch_of_activations_at_a_time():
    X, Y = _data(batches=4)
    params = xpnet.init_params(DIMS, scale="he", backend="numpy")
    options = dict(epochs=1, lr=1e-3, batch_size=BATCH, hidden="relu", output="softmax",
                   params=params, restore_on_nan=False, verbose=0)
    fit(X, Y, DIMS, **options)  # once before: what a first call sets up for good
    fit_peak = _traced_peak(lambda: fit(X, Y, DIMS, **options))
    Xb, Yb = X[:, :BATCH].copy(), Y[:, :BATCH].copy()  # a batch, as fit gathers it

    def one_step():
        AL, caches = forward(Xb, params, ACTIVATIONS)
        backward_and_update(AL, Yb, caches, params, "softmax", SGD(), 1e-3)

    step_peak = _traced_peak(one_step)
    # Keeping the previous batch's activations (three layers) through the next forward pass
    # put fit two layers above one step; its own extras (the epoch's order and metrics, the
    # gathered batch) are small beside a layer.
    assert fit_peak < step_peak + 0.5 * LAYER_BYTES, (fit_peak / LAYER_BYTES,
                                                      step_peak / LAYER_BYTES)
