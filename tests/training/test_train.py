"""train, predict and accuracy: the tutorial's loop end to end, on every backend."""

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.datasets import make_moons

from conftest import load_backend


def tutorial_data():
    rng = np.random.RandomState(1)
    X = rng.randn(4, 60)
    Y = (X[0:1] + X[1:2] > 0).astype(float)
    return X, Y


def test_the_tutorials_example_runs_the_tutorials_way():
    X, Y = tutorial_data()
    layer_dims = [4, 5, 3, 1]
    params, cost_history = xpnet.train(X, Y, layer_dims, 300, 0.5)
    assert len(cost_history) == 300
    assert all(type(c) is float for c in cost_history)
    assert cost_history[-1] < cost_history[0]
    assert all(b <= a + 1e-15 for a, b in zip(cost_history, cost_history[1:]))  # small lr: monotone
    assert sorted(params) == ["W1", "W2", "W3", "b1", "b2", "b3"]


def test_training_learns_a_nonlinear_problem(xp):
    X, Y = make_moons(200, noise=0.1, seed=0)
    params, costs = xpnet.train(X, Y, [2, 12, 1], 1500, 1.0, hidden="tanh", scale="xavier", backend=xp)
    assert costs[-1] < 0.1 * costs[0]
    assert xpnet.accuracy(X, Y, params, hidden="tanh") > 0.95


@pytest.mark.parametrize("other", ["array_api_strict", "torch", "jax"])
def test_same_seed_gives_the_same_cost_history_as_numpy(other):
    xp = load_backend(other)
    X, Y = make_moons(64, seed=1)
    options = dict(hidden="relu", scale="he", seed=5)
    _, reference = xpnet.train(X, Y, [2, 8, 8, 1], 60, 0.3, backend="numpy", **options)
    _, costs = xpnet.train(X, Y, [2, 8, 8, 1], 60, 0.3, backend=xp, **options)
    np.testing.assert_allclose(costs, reference, rtol=1e-12, atol=0)


@pytest.mark.gpu
def test_cupy_cost_history_matches_numpy_in_float64():
    X, Y = make_moons(256, seed=2)
    options = dict(hidden="tanh", scale="xavier", seed=4)
    _, reference = xpnet.train(X, Y, [2, 32, 32, 1], 100, 0.5, backend="numpy", **options)
    _, costs = xpnet.train(X, Y, [2, 32, 32, 1], 100, 0.5, backend="cupy", **options)
    np.testing.assert_allclose(costs, reference, rtol=1e-9, atol=0)


def test_softmax_training_with_one_hot_labels(xp):
    rng = np.random.RandomState(0)
    X = rng.randn(2, 150)
    labels = (X[0] > 0).astype(int) + (X[1] > 0).astype(int)  # 3 classes
    Y = np.eye(3)[:, labels]
    params, costs = xpnet.train(X, Y, [2, 10, 3], 800, 1.0, hidden="tanh", output="softmax",
                                scale="xavier", backend=xp)
    assert costs[-1] < 0.5 * costs[0]
    predicted = xpnet.predict(X, params, hidden="tanh", output="softmax")
    assert predicted.shape == (1, 150)
    assert xpnet.accuracy(X, Y, params, hidden="tanh", output="softmax") > 0.9


def test_regression_with_an_identity_output(xp):
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (1, 100))
    Y = np.sin(2 * X)
    params, costs = xpnet.train(X, Y, [1, 16, 1], 2000, 0.3, hidden="tanh", output="identity",
                                scale="xavier", backend=xp)
    assert costs[-1] < 0.01 * costs[0]
    prediction = xpnet.to_numpy(xpnet.predict(X, params, hidden="tanh", output="identity"))
    assert np.abs(prediction - Y).max() < 0.1


def test_train_keeps_float32_end_to_end(xp):
    X, Y = make_moons(50, seed=0)
    params, costs = xpnet.train(X.astype(np.float32), Y, [2, 4, 1], 5, 0.1, backend=xp)
    assert all(p.dtype == xp.float32 for p in params.values())
    assert len(costs) == 5


def test_train_moves_data_to_the_requested_backend():
    strict = load_backend("array_api_strict")
    X, Y = make_moons(40, seed=0)
    params, _ = xpnet.train(X.tolist(), Y.tolist(), [2, 3, 1], 3, 0.1, backend="array_api_strict")
    assert backend_module.namespace_of(W1=params["W1"]) is strict


def test_train_follows_device_data_without_a_backend_argument():
    strict = load_backend("array_api_strict")
    X, Y = make_moons(40, seed=0)
    params, _ = xpnet.train(xpnet.asarray(X, strict), Y, [2, 3, 1], 3, 0.1)
    assert backend_module.namespace_of(W1=params["W1"]) is strict


def test_zero_epochs_returns_the_initial_parameters():
    X, Y = make_moons(20, seed=0)
    params, costs = xpnet.train(X, Y, [2, 3, 1], 0, 0.1)
    assert costs == []
    np.testing.assert_array_equal(params["W1"], xpnet.init_params([2, 3, 1])["W1"])


@pytest.mark.parametrize("change, error, message", [
    (dict(X=np.zeros((3, 10))), ValueError, r"X has 3 rows \(features\) but the network expects 2"),
    (dict(Y=np.zeros((1, 9))), ValueError, r"Y has shape \(1, 9\) but must be \(layer_dims\[-1\], "
                                           r"n_samples\) = \(1, 10\)"),
    (dict(X=np.full((2, 10), np.nan)), ValueError, "X contains NaN or inf"),
    (dict(Y=np.full((1, 10), 2.0)), ValueError, "Y must hold only 0 and 1 for a sigmoid output"),
    (dict(layer_dims=[2]), ValueError, "at least 2 layer sizes"),
    (dict(hidden="swish"), ValueError, "unknown hidden activation 'swish'; valid names are"),
    (dict(output="softmax"), ValueError, "output='softmax' needs at least two output units"),
    (dict(hidden="softmax"), ValueError, "hidden='softmax' is an output activation only.*"
                                         "valid hidden activations are: identity, leaky_relu, "
                                         "relu, sigmoid, tanh$"),
    (dict(output="swish"), ValueError, "unknown output activation 'swish'"),
    (dict(epochs=-1), ValueError, "epochs must be an int >= 0"),
    (dict(epochs=2.5), TypeError, "epochs must be an int"),
    (dict(lr=0.0), ValueError, "lr must be a finite number > 0"),
    (dict(X=np.zeros(10)), ValueError, "X must be 2-D"),
    (dict(X=np.zeros((2, 0)), Y=np.zeros((1, 0))), ValueError, "X has 0 samples"),
    (dict(dtype="int64"), TypeError, "dtype must be a real floating dtype"),
    (dict(backend="tensorflow"), ValueError, "unknown backend 'tensorflow'"),
])
def test_train_rejects_bad_input_with_a_clear_message(change, error, message):
    args = dict(X=np.random.RandomState(0).randn(2, 10), Y=np.ones((1, 10)), layer_dims=[2, 3, 1],
                epochs=2, lr=0.1)
    args.update(change)
    with pytest.raises(error, match=message):
        xpnet.train(args.pop("X"), args.pop("Y"), args.pop("layer_dims"), args.pop("epochs"),
                    args.pop("lr"), **args)


def test_softmax_labels_must_be_one_hot():
    with pytest.raises(ValueError, match="Y must be one-hot"):
        xpnet.train(np.zeros((2, 3)), np.array([[1.0, 0, 0], [1, 0, 0]]), [2, 2], 1, 0.1, output="softmax")


def test_train_refuses_x_and_y_on_different_device_backends():
    strict = load_backend("array_api_strict")
    torch_xp = load_backend("torch")
    X, Y = make_moons(20, seed=0)
    with pytest.raises(TypeError, match="X on array_api_strict but Y on torch"):
        xpnet.train(xpnet.asarray(X, strict), xpnet.asarray(Y, torch_xp), [2, 2, 1], 1, 0.1)


def test_predict_gives_zero_one_labels_for_a_sigmoid_output(xp):
    X, Y = make_moons(100, seed=3)
    params, _ = xpnet.train(X, Y, [2, 8, 1], 300, 1.0, hidden="tanh", scale="xavier", backend=xp)
    labels = xpnet.to_numpy(xpnet.predict(X, params, hidden="tanh"))
    assert labels.shape == (1, 100) and set(np.unique(labels)) <= {0, 1}
    assert xpnet.accuracy(X, Y, params, hidden="tanh") == pytest.approx((labels == Y).mean())


def test_predict_rejects_non_finite_input():
    params = xpnet.init_params([2, 1])
    with pytest.raises(ValueError, match="X contains NaN or inf"):
        xpnet.predict(np.array([[np.inf], [0.0]]), params)


def test_accuracy_needs_a_classification_output():
    params = xpnet.init_params([2, 1])
    with pytest.raises(ValueError, match="accuracy needs a sigmoid or softmax output"):
        xpnet.accuracy(np.zeros((2, 3)), np.zeros((1, 3)), params, output="identity")


def test_half_precision_data_trains_in_float64():
    X, Y = make_moons(30, seed=0)
    params, _ = xpnet.train(X.astype(np.float16), Y, [2, 3, 1], 2, 0.1)
    assert params["W1"].dtype == np.float64


def test_accuracy_refuses_labels_that_are_not_zero_or_one():
    params = xpnet.init_params([2, 1])
    with pytest.raises(ValueError, match="Y must hold only 0 and 1"):
        xpnet.accuracy(np.zeros((2, 3)), np.full((1, 3), 0.7), params)


def test_predict_refuses_a_bad_threshold():
    with pytest.raises(ValueError, match=r"threshold must be a number in \[0, 1\]"):
        xpnet.predict(np.zeros((2, 3)), xpnet.init_params([2, 1]), threshold="0.5")
