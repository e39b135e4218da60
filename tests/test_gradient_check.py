"""backprop against central finite differences, in float64, for every activation and loss."""

import numpy as np
import pytest

import xpnet
from xpnet.activations import ACTIVATIONS

from conftest import assert_backprop_matches_finite_differences, random_targets

TOLERANCE = 1e-7
NETWORKS = [[3, 4, 2], [2, 5, 4, 3], [4, 3, 3, 3, 2]]


def check_gradients(xp, layer_dims, hidden, output, seed):
    rng = np.random.RandomState(seed)
    X_host = rng.randn(layer_dims[0], 7)
    Y_host = random_targets(rng, output, layer_dims[-1], 7)
    params_host = {k: xpnet.to_numpy(v).copy() for k, v in
                   xpnet.init_params(layer_dims, seed=seed, scale=0.8, backend="numpy").items()}
    for key in params_host:
        if key.startswith("b"):  # non-zero biases, so their gradients are not trivially tested
            params_host[key] = rng.randn(*params_host[key].shape) * 0.5

    assert_backprop_matches_finite_differences(xp, X_host, Y_host, params_host, hidden, output,
                                               TOLERANCE)


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
