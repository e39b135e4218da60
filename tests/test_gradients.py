"""backprop against central finite differences, in float64, for every activation and loss."""

import numpy as np
import pytest

import xpnet
from xpnet.activations import ACTIVATIONS

from conftest import random_targets

STEP = 1e-5
TOLERANCE = 1e-7
NETWORKS = [[3, 4, 2], [2, 5, 4, 3], [4, 3, 3, 3, 2]]


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


def finite_difference(cost_of, values):
    """Central differences of ``cost_of(values)`` with respect to each entry of ``values``."""
    grad = np.zeros_like(values)
    for i in np.ndindex(values.shape):
        original = values[i]
        values[i] = original + STEP
        plus = cost_of(values)
        values[i] = original - STEP
        minus = cost_of(values)
        values[i] = original
        grad[i] = (plus - minus) / (2 * STEP)
    return grad


def check_gradients(xp, layer_dims, hidden, output, seed):
    rng = np.random.RandomState(seed)
    X_host = rng.randn(layer_dims[0], 7)
    Y_host = random_targets(rng, output, layer_dims[-1], 7)
    params_host = {k: xpnet.to_numpy(v).copy() for k, v in
                   xpnet.init_params(layer_dims, seed=seed, scale=0.8, backend="numpy").items()}
    for key in params_host:
        if key.startswith("b"):  # non-zero biases, so their gradients are not trivially tested
            params_host[key] = rng.randn(*params_host[key].shape) * 0.5

    def cost(X_values, params_values):
        params = {k: xpnet.asarray(v, xp) for k, v in params_values.items()}
        AL, _ = xpnet.forward_prop(xpnet.asarray(X_values, xp), params, hidden=hidden, output=output)
        return float(xpnet.cost_function(AL, xpnet.asarray(Y_host, xp), output=output))

    params = {k: xpnet.asarray(v, xp) for k, v in params_host.items()}
    AL, caches = xpnet.forward_prop(xpnet.asarray(X_host, xp), params, hidden=hidden, output=output)
    grads = xpnet.backprop(AL, xpnet.asarray(Y_host, xp), caches)

    for key, values in params_host.items():
        expected = finite_difference(lambda v: cost(X_host, {**params_host, key: v}), values)
        error = relative_error(xpnet.to_numpy(grads["d" + key]), expected)
        assert error < TOLERANCE, f"d{key}: relative error {error:.2e}"
    expected = finite_difference(lambda v: cost(v, params_host), X_host.copy())
    error = relative_error(xpnet.to_numpy(grads["dA0"]), expected)
    assert error < TOLERANCE, f"dA0: relative error {error:.2e}"


@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
@pytest.mark.parametrize("layer_dims", NETWORKS, ids=str)
def test_backprop_matches_finite_differences_for_each_hidden_activation(xp, hidden, layer_dims):
    check_gradients(xp, layer_dims, hidden, "sigmoid", seed=len(layer_dims))


@pytest.mark.parametrize("output", sorted(ACTIVATIONS))
@pytest.mark.parametrize("layer_dims", NETWORKS, ids=str)
def test_backprop_matches_finite_differences_for_each_output_and_loss(xp, output, layer_dims):
    check_gradients(xp, layer_dims, "tanh", output, seed=10 + len(layer_dims))


def test_gradient_check_detects_a_wrong_gradient(monkeypatch):
    # The check itself must be able to fail: break relu's derivative and expect it to notice.
    from xpnet import activations
    broken = activations.Activation("relu", activations.relu, lambda dA, A: dA)
    monkeypatch.setitem(activations.ACTIVATIONS, "relu", broken)
    with pytest.raises(AssertionError, match="relative error"):
        check_gradients(xpnet.backend.resolve_backend("numpy"), [3, 4, 2], "relu", "sigmoid", 0)
