"""init_params, forward_prop, backprop and update_parameters: the tutorial's steps."""

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.network import LayerCache

from conftest import random_targets, run_without_jax_64_bit_types


def tutorial_init(layer_dims):
    """The tutorial's init_params, verbatim except for using a private RandomState(3)."""
    rng = np.random.RandomState(3)
    params = {}
    for l in range(1, len(layer_dims)):
        params["W" + str(l)] = rng.randn(layer_dims[l], layer_dims[l - 1]) * 0.01
        params["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return params


def test_init_reproduces_the_tutorial_exactly(xp):
    params = xpnet.init_params([5, 4, 3, 1], backend=xp)
    expected = tutorial_init([5, 4, 3, 1])
    assert list(params) == list(expected)
    for key, value in expected.items():
        assert params[key].dtype == xp.float64
        np.testing.assert_array_equal(xpnet.to_numpy(params[key]), value)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_init_draws_big_layers_in_blocks_with_the_same_numbers(xp, monkeypatch, dtype):
    whole = xpnet.init_params([7, 13, 3], scale="he", dtype=dtype, backend=xp)
    # Blocks of 2 rows of 7 (and 1 row of 13): every layer is drawn in several pieces.
    monkeypatch.setattr(xpnet.network, "_DRAW_BLOCK", 14)
    blocked = xpnet.init_params([7, 13, 3], scale="he", dtype=dtype, backend=xp)
    for key in whole:
        assert blocked[key].dtype == whole[key].dtype
        np.testing.assert_array_equal(xpnet.to_numpy(blocked[key]), xpnet.to_numpy(whole[key]))


def test_init_leaves_numpys_global_random_state_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    xpnet.init_params([4, 3, 1], seed=7)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("scale, std", [("he", lambda n_in, n_out: np.sqrt(2 / n_in)),
                                        ("xavier", lambda n_in, n_out: np.sqrt(2 / (n_in + n_out))),
                                        (0.5, lambda n_in, n_out: 0.5)])
def test_init_scales(scale, std):
    params = xpnet.init_params([300, 200, 10], scale=scale, seed=0)
    rng = np.random.RandomState(0)
    for l, (n_in, n_out) in enumerate([(300, 200), (200, 10)], start=1):
        np.testing.assert_allclose(params[f"W{l}"], rng.randn(n_out, n_in) * std(n_in, n_out),
                                   rtol=1e-15)


def test_init_respects_the_dtype(xp):
    params = xpnet.init_params([3, 2], dtype="float32", backend=xp)
    assert params["W1"].dtype == xp.float32 and params["b1"].dtype == xp.float32


@pytest.mark.parametrize("layer_dims, message", [
    ([4], "at least 2 layer sizes"),
    ([4, 0, 1], r"layer_dims\[1\] must be a positive int, got 0"),
    ([4, 2.5, 1], r"layer_dims\[1\] must be a positive int, got 2.5"),
])
def test_init_rejects_bad_layer_dims(layer_dims, message):
    with pytest.raises(ValueError, match=message):
        xpnet.init_params(layer_dims)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"scale": "lecun"}, ValueError, "scale must be a positive number or one of"),
    ({"scale": -1.0}, ValueError, "scale must be a finite number > 0"),
    ({"dtype": "int32"}, TypeError, "dtype must be a real floating dtype"),
    ({"seed": -1}, ValueError, "seed must be an int"),
])
def test_init_rejects_bad_options(kwargs, error, message):
    with pytest.raises(error, match=message):
        xpnet.init_params([3, 2], **kwargs)


def test_forward_prop_shapes_and_caches(xp):
    params = xpnet.init_params([4, 5, 3], backend=xp)
    X = xpnet.asarray(np.random.RandomState(0).randn(4, 6), xp)
    AL, caches = xpnet.forward_prop(X, params, hidden="relu", output="softmax")
    assert AL.shape == (3, 6) and len(caches) == 2
    assert all(isinstance(c, LayerCache) for c in caches)
    assert caches[0].A_prev is X and caches[1].A_prev is caches[0].A  # shared, not copied
    assert [c.activation for c in caches] == ["relu", "softmax"]
    np.testing.assert_allclose(xpnet.to_numpy(AL).sum(axis=0), 1.0, rtol=1e-12)


def test_forward_prop_matches_a_plain_numpy_computation(xp):
    rng = np.random.RandomState(1)
    params = {k: xpnet.asarray(v, xp) for k, v in
              {"W1": rng.randn(3, 2), "b1": rng.randn(3, 1), "W2": rng.randn(1, 3), "b2": rng.randn(1, 1)}.items()}
    X = rng.randn(2, 5)
    hidden = np.tanh(xpnet.to_numpy(params["W1"]) @ X + xpnet.to_numpy(params["b1"]))
    expected = 1 / (1 + np.exp(-(xpnet.to_numpy(params["W2"]) @ hidden + xpnet.to_numpy(params["b2"]))))
    AL, _ = xpnet.forward_prop(xpnet.asarray(X, xp), params, hidden="tanh")
    np.testing.assert_allclose(xpnet.to_numpy(AL), expected, rtol=1e-13)


def test_forward_prop_names_the_mismatch_in_features():
    params = xpnet.init_params([5, 3, 1])
    with pytest.raises(ValueError, match=r"X has 4 rows \(features\) but the network expects 5 "
                                         r"\(layer_dims\[0\]\); X must be shaped \(n_features, n_samples\)"):
        xpnet.forward_prop(np.zeros((4, 10)), params)


def test_forward_prop_rejects_one_dimensional_and_integer_input():
    params = xpnet.init_params([3, 1])
    with pytest.raises(ValueError, match="X must be 2-D"):
        xpnet.forward_prop(np.zeros(3), params)
    with pytest.raises(TypeError, match="X has dtype int64"):
        xpnet.forward_prop(np.zeros((3, 2), dtype=np.int64), params)


def test_forward_prop_rejects_malformed_params():
    with pytest.raises(ValueError, match="params must hold exactly W1, b1"):
        xpnet.forward_prop(np.zeros((3, 2)), {"W1": np.zeros((1, 3))})
    with pytest.raises(ValueError, match="W2 has 4 columns but W1 has 3 rows"):
        xpnet.forward_prop(np.zeros((2, 2)), {"W1": np.zeros((3, 2)), "b1": np.zeros((3, 1)),
                                              "W2": np.zeros((1, 4)), "b2": np.zeros((1, 1))})


def test_forward_prop_rejects_params_from_another_backend():
    strict = backend_module.resolve_backend("array_api_strict")
    params = xpnet.init_params([3, 1], backend=strict)
    with pytest.raises(TypeError, match="X on numpy but W1, b1 on array_api_strict"):
        xpnet.forward_prop(np.zeros((3, 2)), params)


def test_backprop_returns_the_fixed_key_scheme(xp):
    params = xpnet.init_params([4, 3, 2, 1], backend=xp)
    X = xpnet.asarray(np.random.RandomState(0).randn(4, 5), xp)
    AL, caches = xpnet.forward_prop(X, params)
    grads = xpnet.backprop(AL, xpnet.asarray(np.ones((1, 5)), xp), caches)
    assert sorted(grads) == sorted(["dA0", "dA1", "dA2", "dW1", "db1", "dW2", "db2", "dW3", "db3"])
    for l in (1, 2, 3):
        assert grads[f"dW{l}"].shape == params[f"W{l}"].shape
        assert grads[f"db{l}"].shape == params[f"b{l}"].shape


def test_output_gradient_is_al_minus_y_over_m_for_canonical_pairs(xp):
    rng = np.random.RandomState(2)
    for output in ("sigmoid", "softmax", "identity"):
        params = xpnet.init_params([3, 4], scale=1.0, backend=xp)
        X = xpnet.asarray(rng.randn(3, 6), xp)
        AL, caches = xpnet.forward_prop(X, params, output=output)
        Y = random_targets(rng, output, 4, 6)
        grads = xpnet.backprop(AL, xpnet.asarray(Y, xp), caches)
        expected = (xpnet.to_numpy(AL) - Y) / 6 @ xpnet.to_numpy(X).T
        np.testing.assert_allclose(xpnet.to_numpy(grads["dW1"]), expected, rtol=1e-12)


def test_one_layer_backward_uses_the_activation_in_the_cache_or_the_one_given(xp):
    params = xpnet.init_params([3, 2], scale=1.0, backend=xp)
    X = xpnet.asarray(np.random.RandomState(3).randn(3, 4), xp)
    _, caches = xpnet.forward_prop(X, params, output="tanh")
    dA = xpnet.asarray(np.ones((2, 4)), xp)
    default = xpnet.one_layer_backward(dA, caches[0])
    explicit = xpnet.one_layer_backward(dA, caches[0], "tanh")
    other = xpnet.one_layer_backward(dA, caches[0], "identity")
    for a, b in zip(default, explicit):
        np.testing.assert_array_equal(xpnet.to_numpy(a), xpnet.to_numpy(b))
    assert not np.allclose(xpnet.to_numpy(default[1]), xpnet.to_numpy(other[1]))


def test_update_parameters_reads_dw_keys_and_steps_downhill(xp):
    params = xpnet.init_params([2, 2], scale=1.0, backend=xp)
    before = {k: xpnet.to_numpy(v).copy() for k, v in params.items()}
    grads = {"dW1": xpnet.asarray([[1.0, 2.0], [3.0, 4.0]], xp), "db1": xpnet.asarray([[1.0], [-1.0]], xp)}
    updated = xpnet.update_parameters(params, grads, 0.1)
    np.testing.assert_allclose(xpnet.to_numpy(updated["W1"]), before["W1"] - 0.1 * np.array([[1, 2], [3, 4]]))
    np.testing.assert_allclose(xpnet.to_numpy(updated["b1"]), before["b1"] - 0.1 * np.array([[1], [-1]]))
    assert updated["W1"].dtype == xp.float64


def test_update_parameters_works_in_place_on_writeable_arrays():
    params = xpnet.init_params([2, 2])
    W = params["W1"]
    xpnet.update_parameters(params, {"dW1": np.ones((2, 2)), "db1": np.ones((2, 1))}, 0.5)
    assert params["W1"] is W


def test_update_parameters_keeps_float32(xp):
    params = xpnet.init_params([2, 2], dtype="float32", backend=xp)
    grads = {"dW1": xpnet.asarray(np.ones((2, 2)), xp, "float32"),
             "db1": xpnet.asarray(np.ones((2, 1)), xp, "float32")}
    updated = xpnet.update_parameters(params, grads, 0.1)
    assert updated["W1"].dtype == xp.float32


def test_update_parameters_names_missing_gradients():
    params = xpnet.init_params([2, 2])
    with pytest.raises(ValueError, match="grads has no dW1, db1; pass the dict returned by backprop"):
        xpnet.update_parameters(params, {"W1": np.ones((2, 2)), "b1": np.ones((2, 1))}, 0.1)


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf")])
def test_update_parameters_rejects_bad_learning_rates(lr):
    params = xpnet.init_params([2, 2])
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        xpnet.update_parameters(params, {"dW1": np.ones((2, 2)), "db1": np.ones((2, 1))}, lr)


def test_x_and_params_of_different_dtypes_are_refused_on_every_backend(xp):
    params = xpnet.init_params([3, 1], dtype="float32", backend=xp)
    with pytest.raises(TypeError, match="X has dtype .*float64 but the parameters have .*float32"):
        xpnet.forward_prop(xpnet.asarray(np.zeros((3, 2)), xp, "float64"), params)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_forward_and_backprop_keep_the_dtype(xp, dtype):
    params = xpnet.init_params([3, 4, 2], dtype=dtype, backend=xp)
    X = xpnet.asarray(np.random.RandomState(0).randn(3, 5), xp, dtype)
    for output in ("sigmoid", "softmax", "identity", "tanh"):
        AL, caches = xpnet.forward_prop(X, params, hidden="relu", output=output)
        Y = xpnet.asarray(np.eye(2)[:, [0, 1, 0, 1, 1]], xp, dtype)
        grads = xpnet.backprop(AL, Y, caches)
        cost = xpnet.cost_function(AL, Y, output=output)
        assert AL.dtype == cost.dtype == X.dtype
        assert all(g.dtype == X.dtype for g in grads.values())


def test_update_parameters_refuses_gradients_of_the_wrong_shape(xp):
    params = xpnet.init_params([2, 1], backend=xp)
    grads = {"dW1": xpnet.asarray(np.ones((3, 2)), xp), "db1": xpnet.asarray(np.ones((1, 1)), xp)}
    with pytest.raises(ValueError, match=r"grads\['dW1'\] is \(3, 2\) .* but params\['W1'\] is \(1, 2\)"):
        xpnet.update_parameters(params, grads, 0.1)


def test_update_parameters_refuses_gradients_from_another_backend():
    strict = backend_module.resolve_backend("array_api_strict")
    params = xpnet.init_params([2, 1])
    grads = {"dW1": strict.ones((1, 2), dtype=strict.float64), "db1": strict.ones((1, 1), dtype=strict.float64)}
    with pytest.raises(TypeError, match="W1, b1 on numpy but dW1, db1 on array_api_strict"):
        xpnet.update_parameters(params, grads, 0.1)


def test_params_with_non_string_keys_are_refused():
    with pytest.raises(TypeError, match="params keys must be the strings W1, b1"):
        xpnet.forward_prop(np.zeros((2, 1)), {1: np.zeros((1, 2)), "b1": np.zeros((1, 1))})


def test_backprop_refuses_an_AL_from_another_forward_pass(xp):
    params = xpnet.init_params([3, 4, 1], backend=xp)
    X = xpnet.asarray(np.random.RandomState(0).randn(3, 60), xp)
    _, caches = xpnet.forward_prop(X, params)
    AL, _ = xpnet.forward_prop(X[:, :30], params)
    with pytest.raises(ValueError, match=r"AL is shaped \(1, 30\) but the caches' output layer "
                                         r"\(1, 60\); pass the AL and the caches"):
        xpnet.backprop(AL, xpnet.asarray(np.ones((1, 30)), xp), caches)


def test_jax_without_64_bit_mode_trains_in_float32():
    # JAX's default mode has no float64: the defaults must fall back to float32, not fail.
    pytest.importorskip("jax")
    code = ("import xpnet, numpy as np\n"
            "p = xpnet.init_params([2, 3, 1], backend='jax')\n"
            "params, costs = xpnet.train(np.random.RandomState(0).randn(2, 20), np.ones((1, 20)),"
            " [2, 3, 1], 5, 0.1, backend='jax')\n"
            "print(p['W1'].dtype, params['W1'].dtype, len(costs))\n")
    assert run_without_jax_64_bit_types(code).split() == ["float32", "float32", "5"]


def test_a_network_checked_once_is_checked_again_when_its_structure_changes():
    # The door checks remember their verdict per (name, type, shape, dtype) signature.
    X = np.ones((3, 2))
    params = xpnet.init_params([3, 4, 1])
    xpnet.forward_prop(X, params)
    params["b1"] = np.zeros((4, 2))
    with pytest.raises(ValueError, match="b1 shaped"):
        xpnet.forward_prop(X, params)
    params["b1"] = np.zeros((4, 1), dtype=np.float32)
    with pytest.raises(TypeError, match="one dtype"):
        xpnet.forward_prop(X, params)
    params["b1"] = [[0.0]] * 4
    with pytest.raises(TypeError, match="must be an array"):
        xpnet.forward_prop(X, params)
    good = xpnet.init_params([3, 4, 1])
    AL, caches = xpnet.forward_prop(X, good)
    grads = xpnet.backprop(AL, np.ones((1, 2)), caches)
    xpnet.update_parameters(good, grads, 0.1)
    grads["dW1"] = grads["dW1"][:, :2]
    with pytest.raises(ValueError, match="must match"):
        xpnet.update_parameters(good, grads, 0.1)
