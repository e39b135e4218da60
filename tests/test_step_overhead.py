"""What the per-call savings of the training step keep: the numbers, bit for bit, and the checks.

xpnet's step against a hand-written NumPy step of the same arithmetic (the benchmarks'
reference): equal parameters after several steps and after a ``fit``, in both dtypes. The
network check that the public step remembers is remembered only for networks that passed it
(tests/test_network.py: it still refuses a network that changed).
"""

import array_api_compat
import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet import kernels, memo, parameters

DIMS = [12, 8, 6, 4]


def _data(dtype, m=40, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(DIMS[0], m).astype(dtype)
    Y = np.eye(DIMS[-1], dtype=dtype)[:, rng.randint(DIMS[-1], size=m)]
    return X, Y


def _numpy_step(params, X, Y, lr):
    """forward (relu, softmax), backward and SGD, written by hand, without the input's gradient."""
    L = len(params) // 2
    A = [X]
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A[-1] + params[f"b{l}"]
        if l < L:
            A.append(np.maximum(Z, 0))
        else:
            E = np.exp(Z - Z.max(axis=0, keepdims=True))
            A.append(E / E.sum(axis=0, keepdims=True))
    dZ = (A[-1] - Y) / X.shape[1]
    for l in range(L, 0, -1):
        dW, db = dZ @ A[l - 1].T, dZ.sum(axis=1, keepdims=True)
        if l > 1:
            dZ = (params[f"W{l}"].T @ dZ) * (A[l - 1] > 0)
        params[f"W{l}"] -= lr * dW
        params[f"b{l}"] -= lr * db


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_public_step_gives_the_hand_written_steps_numbers_bit_for_bit(dtype):
    X, Y = _data(dtype)
    params = xpnet.init_params(DIMS, seed=1, scale="he", dtype=dtype, backend="numpy")
    reference = {key: value.copy() for key, value in params.items()}
    lr = 0.1
    for _ in range(5):
        AL, caches = xpnet.forward_prop(X, params, hidden="relu", output="softmax")
        xpnet.update_parameters(params, xpnet.backprop(AL, Y, caches, input_gradient=False), lr)
        _numpy_step(reference, X, Y, np.asarray(lr, dtype=dtype))
    for key in params:
        np.testing.assert_array_equal(params[key], reference[key], err_msg=key)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_gives_the_hand_written_loops_numbers_bit_for_bit(dtype):
    X, Y = _data(dtype, m=40)
    start = xpnet.init_params(DIMS, seed=2, scale="he", dtype=dtype, backend="numpy")
    reference = {key: value.copy() for key, value in start.items()}
    params, _ = xpnet.fit(X, Y, DIMS, epochs=3, lr=0.1, batch_size=16, shuffle=False,
                          hidden="relu", output="softmax", params=start, verbose=0)
    rows_X, rows_Y = np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T)
    for _ in range(3):
        for begin in range(0, 40, 16):  # batches as fit takes them: rows of the samples
            _numpy_step(reference, rows_X[begin:begin + 16].T, rows_Y[begin:begin + 16].T,
                        np.asarray(0.1, dtype=dtype))
    for key in params:
        np.testing.assert_array_equal(params[key], reference[key], err_msg=key)


def test_the_network_check_is_remembered_only_for_networks_that_passed(monkeypatch):
    monkeypatch.setattr(parameters, "_CHECKED", memo.Answers())
    params = xpnet.init_params(DIMS, seed=0, backend="numpy")
    bad = {**params, "W3": np.zeros((6, 6))}
    for _ in range(2):
        with pytest.raises(ValueError):
            parameters.check_network(bad)
    assert parameters._CHECKED == {}
    assert parameters.check_network(params) == (3, np.dtype("float64"))
    assert len(parameters._CHECKED) == 1


@pytest.mark.parametrize("arrays", [
    (np.zeros(2),), (np.zeros(2), np.ones((2, 2))), (np.zeros(2), 3.0), (np.float64(1.0),)])
def test_the_quick_namespace_answers_as_array_api_compat(arrays):
    assert backend_module.array_namespace(*arrays) is array_api_compat.array_namespace(*arrays)


def test_the_quick_namespace_still_refuses_mixed_libraries():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="Multiple namespaces"):
        backend_module.array_namespace(np.zeros(2), torch.zeros(2))


def test_the_remembered_cupy_test_answers_as_array_api_compat():
    for x in (np.zeros(2), np.float32(1.0), 3.0, [1.0]):
        assert kernels._is_cupy(x) is array_api_compat.is_cupy_array(x)


def test_the_remembered_door_checks_still_refuse_what_changed_after_a_pass():
    X, Y = _data("float64")
    params = xpnet.init_params(DIMS, seed=0, scale="he", backend="numpy")
    for _ in range(2):  # the second call answers from what the first remembered
        AL, caches = xpnet.forward_prop(X, params, hidden="relu", output="softmax")
        grads = xpnet.backprop(AL, Y, caches, input_gradient=False)
        xpnet.update_parameters(params, grads, 0.1)
    with pytest.raises(TypeError, match="dtype float32"):
        xpnet.forward_prop(X.astype("float32"), params, hidden="relu", output="softmax")
    with pytest.raises(ValueError, match="unknown hidden activation"):
        xpnet.forward_prop(X, params, hidden="rel", output="softmax")
    with pytest.raises(ValueError, match="Y has shape"):
        xpnet.backprop(AL, Y[:, :-1], caches)
    with pytest.raises(ValueError, match="grads\\['dW2'\\]"):
        xpnet.update_parameters(params, {**grads, "dW2": grads["dW2"][:, :-1]}, 0.1)
    with pytest.raises(ValueError, match="grads has no db3"):
        xpnet.update_parameters(params, {k: v for k, v in grads.items() if k != "db3"}, 0.1)
    with pytest.raises(ValueError, match="beyond the range"):
        xpnet.update_parameters({k: v.astype("float32") for k, v in params.items()},
                                {k: v.astype("float32") for k, v in grads.items()}, 1e39)


def test_the_remembered_checks_take_arrays_of_another_library_of_the_same_layout_in_turn():
    # The layout just seen is compared first; each key puts an array's type before its
    # dtype, so array-api-strict's dtypes are never compared with NumPy's (it warns, and
    # warnings are errors here).
    strict = pytest.importorskip("array_api_strict")
    X, Y = _data("float64")
    results = []
    for xp in (np, strict, np, strict):
        params = xpnet.init_params(DIMS, seed=0, scale="he", backend=xp)
        Xb, Yb = xpnet.asarray(X, xp), xpnet.asarray(Y, xp)
        AL, caches = xpnet.forward_prop(Xb, params, hidden="relu", output="softmax")
        grads = xpnet.backprop(AL, Yb, caches, input_gradient=False)
        xpnet.update_parameters(params, grads, 0.1)
        results.append({k: xpnet.to_numpy(v) for k, v in params.items()})
    for later in results[1:]:
        for key in results[0]:
            np.testing.assert_allclose(later[key], results[0][key], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", [np.array("relu"), np.array(["relu"])])
def test_a_remembered_layout_does_not_pass_an_activation_name_that_is_no_str(name):
    # NumPy string arrays compare equal to the str they hold: the remembered layout of
    # the call before must not answer for them.
    X, _ = _data("float64")
    params = xpnet.init_params(DIMS, seed=0, scale="he", backend="numpy")
    xpnet.forward_prop(X, params, hidden="relu", output="softmax")
    with pytest.raises(TypeError, match="hidden must be an activation name"):
        xpnet.forward_prop(X, params, hidden=name, output="softmax")
    with pytest.raises(TypeError, match="output must be an activation name"):
        xpnet.forward_prop(X, params, hidden="relu", output=np.array("softmax"))
