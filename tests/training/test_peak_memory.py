"""Peak memory of training on NumPy, traced by tracemalloc (which sees NumPy's arrays): the
backward pass and the epoch loop let each array go as soon as it is spent."""

from __future__ import annotations

import tracemalloc
import weakref

import numpy as np

import xpnet
from xpnet import activations
from xpnet.network import forward, layer_activations, layer_errors
from xpnet.outputs import get_output
from xpnet.training import fit
from xpnet.training.optimizers import SGD
from xpnet.training.parallel import weighted_gradients
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


def _step_peak(params, X: np.ndarray, Y: np.ndarray) -> int:
    """The traced peak of one training step of fit's (forward, then backward and update)."""

    def one_step():
        AL, caches = forward(X, params, ACTIVATIONS)
        backward_and_update(AL, Y, caches, params, "softmax", SGD(), 1e-3)

    return _traced_peak(one_step)


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
    # a batch, as fit gathers it
    step_peak = _step_peak(params, X[:, :BATCH].copy(), Y[:, :BATCH].copy())
    # Keeping the previous batch's activations (three layers) through the next forward pass
    # put fit two layers above one step; its own extras (the epoch's order and metrics, the
    # gathered batch) are small beside a layer.
    assert fit_peak < step_peak + 0.5 * LAYER_BYTES, (fit_peak / LAYER_BYTES,
                                                      step_peak / LAYER_BYTES)


def test_fit_s_backward_pass_lets_each_layer_output_go_once_it_is_spent():
    params = xpnet.init_params(DIMS, scale="he", backend="numpy")
    X, Y = _data()
    for spend in (False, True):
        AL, caches = forward(X, params, ACTIVATIONS)
        outputs = [weakref.ref(cache.A) for cache in caches[:-1]]  # the hidden layers'
        alive = {l: [ref() is not None for ref in outputs]
                 for l, _, _ in layer_errors(AL, Y, caches, "softmax", spend=spend)}
        if spend:  # when layer l's dZ comes, the outputs of layers l and above are gone
            assert alive == {l: [h < l - 1 for h in range(len(outputs))]
                             for l in range(len(DIMS) - 1, 0, -1)}, alive
        else:  # the caches are the caller's: nothing of theirs is let go
            assert all(all(flags) for flags in alive.values()), alive


def test_a_training_step_holds_its_activations_and_two_layers_more_at_most():
    params = xpnet.init_params(DIMS, scale="he", backend="numpy")
    peak = _step_peak(params, *_data())
    # The top of the backward pass: the three hidden layers' outputs, the last one's dA
    # and the mask it is multiplied by (NumPy's relu backward makes the mask a float
    # array of the layer's size), plus a few small arrays. With
    # every output kept until the pass was over, the third layer's update held five
    # layers' worth too (A1, A2, A3, dZ3, dA2) and its dW (half a layer here) on top.
    assert peak < 5.25 * LAYER_BYTES, peak / LAYER_BYTES


def test_where_relu_backward_writes_into_dA_a_step_holds_one_layer_beyond_its_activations(
        monkeypatch):
    # CuPy's relu-backward kernel writes dZ into dA; played here by NumPy (its boolean
    # mask is an eighth of a layer), so that tracemalloc can follow the step's arrays.
    def into_dA(dA, A, out=None):
        return None if out is None else np.multiply(dA, A > 0, out=out)

    monkeypatch.setattr(activations, "fused_relu_backward", into_dA)
    params = xpnet.init_params(DIMS, scale="he", backend="numpy")
    peak = _step_peak(params, *_data())
    # The hidden layers' outputs and the top one's dA (then dZ, in place), or, further
    # down, the outputs not yet spent, a dZ and the next dA: four layers, with the mask
    # or a layer's dW (half a layer here: NumPy has no product into the weights, which
    # CuPy's update uses). Keeping each output to the end of the pass held five and the dW.
    assert peak < 4.6 * LAYER_BYTES, peak / LAYER_BYTES


def test_a_data_parallel_rank_s_gradients_let_each_layer_go_once_spent():
    params = xpnet.init_params(DIMS, scale="he", backend="numpy")
    X, Y = _data()

    def gradients():
        AL, caches = forward(X, params, ACTIVATIONS)
        weighted_gradients(AL, Y, caches, get_output("softmax"), 0.0, 1.0)

    gradients()
    peak = _traced_peak(gradients)
    # As one training step (five layers' worth at the top), with the gradients gathered
    # for the sum over the ranks; each layer's dZ, input and dW held through the next
    # layer's backward held half a layer more.
    assert peak < 5.4 * LAYER_BYTES, peak / LAYER_BYTES
