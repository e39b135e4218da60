"""Hostile inputs to the network math: forward_prop, cost_function, backprop,
update_parameters, predict/accuracy and the entry checks of train/fit.

Each row is one hostile input and what xpnet must do with it: refuse it with an
error that names the argument and the fix, or process it correctly.
"""

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.backend import dtype_name
from xpnet.errors import BackendUnavailableError

from .layouts import LAYOUTS, read_only

OUTPUTS = ["sigmoid", "softmax", "identity", "tanh", "relu", "leaky_relu"]
FLOATS = ["float32", "float64"]


def other_backend(name):
    try:
        return backend_module.resolve_backend(name)
    except BackendUnavailableError as exc:
        pytest.skip(f"{name} backend unavailable: {exc}")


def host(a):
    return xpnet.to_numpy(a)


def one_layer(xp, dtype, n):
    """A network whose output layer sees its input unchanged: W1 = I, b1 = 0."""
    return {"W1": xpnet.asarray(np.eye(n), xp, dtype), "b1": xpnet.asarray(np.zeros((n, 1)), xp, dtype)}


def targets_for(output, n_out, m):
    """Valid targets for the loss that ``output`` implies."""
    if output == "sigmoid":
        return (np.arange(n_out * m).reshape(n_out, m) % 2).astype(float)
    if output == "softmax":
        return np.eye(n_out)[:, np.arange(m) % n_out]
    return np.linspace(-1, 1, n_out * m).reshape(n_out, m)


def data(m=6, n=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, m)
    return X, (X[:1] + X[1:2] > 0).astype(float)


# -- extreme logits and saturated probabilities ---------------------------------------------------

EXTREME_LOGITS = np.array([[1e4, -1e4, 0.0, 1e4, -1e4],
                           [-1e4, 1e4, 1e4, 1e4, -1e4]])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("output", OUTPUTS)
def test_logits_of_plus_minus_1e4_give_finite_outputs_costs_and_gradients(xp, hostile, output, dtype):
    params = one_layer(xp, dtype, 2)
    X = xpnet.asarray(EXTREME_LOGITS, xp, dtype)
    Y = xpnet.asarray(targets_for(output, 2, 5), xp, dtype)
    AL, caches = xpnet.forward_prop(X, params, output=output)
    cost = xpnet.cost_function(AL, Y, output=output)
    grads = xpnet.backprop(AL, Y, caches)
    assert dtype_name(AL.dtype) == dtype and np.all(np.isfinite(host(AL)))
    if output == "softmax":
        np.testing.assert_allclose(host(AL).sum(axis=0), 1.0, rtol=1e-6)
    if output == "sigmoid":
        assert np.all((host(AL) >= 0) & (host(AL) <= 1))
    assert np.isfinite(float(cost)) and float(cost) >= 0
    assert all(np.all(np.isfinite(host(g))) for g in grads.values())
    hostile.handled()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("output, AL, Y", [
    ("sigmoid", [[0.0, 1.0, 0.0, 1.0]], [[0.0, 1.0, 1.0, 0.0]]),                      # right and wrong
    ("softmax", [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]),
    ("identity", [[0.0, 1.0, 0.0]], [[1.0, 0.0, 0.0]]),
])
def test_probabilities_of_exactly_0_and_1_give_a_finite_cost_and_gradient(xp, hostile, output, AL, Y, dtype):
    AL, Y = xpnet.asarray(AL, xp, dtype), xpnet.asarray(Y, xp, dtype)
    cost = float(xpnet.cost_function(AL, Y, output=output))
    assert np.isfinite(cost) and cost > 0  # wrong, saturated predictions cost a lot, never inf
    X = xpnet.asarray(np.zeros((1, AL.shape[1])), xp, dtype)
    params = {"W1": xpnet.asarray(np.zeros((AL.shape[0], 1)), xp, dtype),
              "b1": xpnet.asarray(np.zeros((AL.shape[0], 1)), xp, dtype)}
    _, caches = xpnet.forward_prop(X, params, output=output)
    grads = xpnet.backprop(AL, Y, caches)
    assert all(np.all(np.isfinite(host(g))) for g in grads.values())
    hostile.handled()


# -- arrays of two libraries in one call ---------------------------------------------------------

def _mixed_calls(other):
    X, Y = data()
    params = xpnet.init_params([3, 2, 1], backend="numpy")
    AL, caches = xpnet.forward_prop(X, params)
    grads = xpnet.backprop(AL, Y, caches)
    moved = {key: xpnet.asarray(value, other) for key, value in grads.items()}
    return {
        "forward_prop X": (lambda: xpnet.forward_prop(xpnet.asarray(X, other), params), ("X", "W1")),
        "cost_function Y": (lambda: xpnet.cost_function(AL, xpnet.asarray(Y, other)), ("AL", "Y")),
        "backprop Y": (lambda: xpnet.backprop(AL, xpnet.asarray(Y, other), caches), ("AL", "Y")),
        "update_parameters grads": (lambda: xpnet.update_parameters(params, moved, 0.1), ("W1", "dW1")),
        "predict X": (lambda: xpnet.predict(xpnet.asarray(X, other), params), ("X", "W1")),
        "accuracy Y": (lambda: xpnet.accuracy(X, xpnet.asarray(Y, other), params), ("AL", "Y")),
    }


@pytest.mark.parametrize("call", ["forward_prop X", "cost_function Y", "backprop Y",
                                  "update_parameters grads", "predict X", "accuracy Y"])
@pytest.mark.parametrize("other", ["array_api_strict", "torch", "jax"])
def test_arrays_of_two_libraries_in_one_call_name_both(hostile, other, call):
    xp = other_backend(other)
    function, names = _mixed_calls(xp)[call]
    with hostile.raises(TypeError, *names, "numpy", backend_module.backend_name(xp), "asarray"):
        function()


# -- dtypes that are not real floating -----------------------------------------------------------

BAD_DTYPES = [np.int64, np.bool_, np.complex128]


def _bad_array(xp, dtype, shape):
    return xp.asarray(np.ones(shape, dtype=dtype))


@pytest.mark.parametrize("dtype", BAD_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("call, argument", [
    (lambda xp, bad: xpnet.forward_prop(bad((3, 4)), one_layer(xp, "float64", 3)), "X"),
    (lambda xp, bad: xpnet.cost_function(bad((1, 4)), xpnet.asarray(np.ones((1, 4)), xp)), "AL"),
    (lambda xp, bad: xpnet.forward_prop(xpnet.asarray(np.ones((3, 4)), xp),
                                        {"W1": bad((3, 3)), "b1": bad((3, 1))}), "params['W1']"),
], ids=["forward_prop X", "cost_function AL", "forward_prop params"])
def test_non_floating_arrays_are_refused_naming_dtype_and_argument(xp, hostile, call, argument, dtype):
    made = []

    def bad(shape):
        made.append(_bad_array(xp, dtype, shape))
        return made[-1]

    with hostile.raises(TypeError, argument, "dtype") as info:
        call(xp, bad)
    assert dtype_name(made[0].dtype) in str(info.value)


@pytest.mark.parametrize("call", [
    lambda xp, Y: xpnet.cost_function(xpnet.asarray(np.full((1, 4), 0.5), xp), Y),
    lambda xp, Y: xpnet.backprop(_output_and_caches(xp)[0], Y, _output_and_caches(xp)[1]),
], ids=["cost_function", "backprop"])
def test_complex_targets_are_refused_naming_y(xp, hostile, call):
    Y = _bad_array(xp, np.complex128, (1, 4))
    with hostile.raises(TypeError, "Y", dtype_name(Y.dtype), "asarray"):
        call(xp, Y)


def _output_and_caches(xp):
    params = one_layer(xp, "float64", 1)
    return xpnet.forward_prop(xpnet.asarray(np.zeros((1, 4)), xp), params)


@pytest.mark.parametrize("Y_dtype", [np.int64, np.bool_])
def test_integer_and_bool_targets_are_used_as_numbers(xp, hostile, Y_dtype):
    AL = xpnet.asarray(np.full((1, 4), 0.25), xp)
    Y = xp.asarray(np.array([[1, 0, 1, 0]], dtype=Y_dtype))
    cost = float(xpnet.cost_function(AL, Y))
    assert cost == pytest.approx(-(np.log(0.25) + np.log(0.75)) / 2)
    hostile.handled()


@pytest.mark.parametrize("X, argument, words", [
    (np.ones((3, 4), dtype=np.complex128), "X", ("complex128",)),
    (np.array([[None] * 4] * 3), "X", ("object",)),
    (np.array([["a"] * 4] * 3), "X", ("<U1",)),
    ([[1.0, 2.0], [3.0]], "X", ("rectangular",)),
], ids=["complex", "object", "strings", "ragged lists"])
def test_train_refuses_host_data_that_is_not_real_numbers(hostile, X, argument, words):
    with hostile.raises((TypeError, ValueError), argument, *words, "numbers"):
        xpnet.train(X, np.ones((1, 4)), [3, 1], 2, 0.1)


@pytest.mark.parametrize("X", [np.ones((3, 4), dtype=np.int64), np.ones((3, 4), dtype=bool),
                               [[1, 0, 1, 0]] * 3], ids=["int64", "bool", "int lists"])
def test_train_converts_integer_and_bool_host_data_to_float64(hostile, X):
    params, costs = xpnet.train(X, [[1, 0, 1, 0]], [3, 1], 3, 0.1)
    assert params["W1"].dtype == np.float64 and len(costs) == 3 and np.all(np.isfinite(costs))
    hostile.handled()


def test_init_params_refuses_an_integer_dtype(hostile):
    with hostile.raises(TypeError, "dtype", "int32", "float64"):
        xpnet.init_params([3, 1], dtype="int32")


# -- empty and mis-shaped data -------------------------------------------------------------------

@pytest.mark.parametrize("call, exception, words", [
    (lambda xp: xpnet.cost_function(xp.zeros((1, 0), dtype=xp.float64), xp.zeros((1, 0), dtype=xp.float64)),
     ValueError, ("AL", "0 samples", "at least one")),
    (lambda xp: xpnet.backprop(xp.zeros((1, 0), dtype=xp.float64), xp.zeros((1, 0), dtype=xp.float64),
                               xpnet.forward_prop(xp.zeros((1, 0), dtype=xp.float64), one_layer(xp, "float64", 1))[1]),
     ValueError, ("AL", "0 samples", "at least one")),
    (lambda xp: xpnet.accuracy(xp.zeros((1, 0), dtype=xp.float64), xp.zeros((1, 0), dtype=xp.float64),
                               one_layer(xp, "float64", 1)), ValueError, ("X", "0 samples", "at least one")),
    (lambda xp: xpnet.train(xp.zeros((3, 0), dtype=xp.float64), xp.zeros((1, 0), dtype=xp.float64), [3, 1], 2, 0.1),
     ValueError, ("X", "0 samples", "at least one")),
    (lambda xp: xpnet.train(xp.zeros((0, 4), dtype=xp.float64), xp.zeros((1, 4), dtype=xp.float64), [0, 1], 2, 0.1),
     ValueError, ("layer_dims[0]", "positive int")),
    (lambda xp: xpnet.forward_prop(xp.zeros((0, 4), dtype=xp.float64), one_layer(xp, "float64", 3)),
     ValueError, ("X", "0 rows", "(n_features, n_samples)")),
    (lambda xp: xpnet.forward_prop(xp.zeros((3,), dtype=xp.float64), one_layer(xp, "float64", 3)),
     ValueError, ("X", "2-D", "reshape")),
    (lambda xp: xpnet.predict(xp.zeros((3,), dtype=xp.float64), one_layer(xp, "float64", 3)),
     ValueError, ("X", "2-D", "reshape")),
    (lambda xp: xpnet.train(xp.zeros((3,), dtype=xp.float64), xp.zeros((3,), dtype=xp.float64), [1, 1], 2, 0.1),
     ValueError, ("X", "2-D", "reshape")),
    (lambda xp: xpnet.cost_function(xp.full((3,), 0.5, dtype=xp.float64), xp.ones((3,), dtype=xp.float64)),
     ValueError, ("AL", "2-D", "(n_outputs, n_samples)")),
    (lambda xp: xpnet.cost_function(xp.full((1, 3), 0.5, dtype=xp.float64), xp.ones((1, 4), dtype=xp.float64)),
     ValueError, ("Y", "(1, 4)", "(n_outputs, n_samples)")),
    (lambda xp: xpnet.train(xp.ones((3, 4), dtype=xp.float64), xp.ones((1, 5), dtype=xp.float64), [3, 1], 2, 0.1),
     ValueError, ("Y", "(1, 5)", "as many samples")),
    (lambda xp: xpnet.predict(xp.ones((4, 2), dtype=xp.float64), one_layer(xp, "float64", 3)),
     ValueError, ("X", "4 rows", "(n_features, n_samples)")),
], ids=["cost 0 samples", "backprop 0 samples", "accuracy 0 samples", "train 0 samples",
        "train 0 features", "forward_prop 0 features", "forward_prop 1-D X", "predict 1-D X",
        "train 1-D X", "cost 1-D AL", "cost Y shape", "train Y samples", "predict X features"])
def test_empty_and_misshaped_data_is_refused(xp, hostile, call, exception, words):
    with hostile.raises(exception, *words):
        call(xp)


def test_forward_prop_and_predict_of_zero_samples_return_empty_results(xp, hostile):
    params = one_layer(xp, "float64", 3)
    X = xp.zeros((3, 0), dtype=xp.float64)
    AL, _ = xpnet.forward_prop(X, params, output="softmax")
    assert tuple(AL.shape) == (3, 0)
    assert tuple(xpnet.predict(X, params, output="softmax").shape) == (1, 0)
    hostile.handled()


# -- NaN and inf ---------------------------------------------------------------------------------

def _with(value, row=0, col=1, shape=(3, 4)):
    A = np.random.RandomState(0).randn(*shape)
    A[row, col] = value
    return A


LABELS = np.array([[1.0, 0.0, 1.0, 0.0]])


@pytest.mark.parametrize("call, argument", [
    (lambda xp, v: xpnet.train(xpnet.asarray(_with(v), xp), xpnet.asarray(LABELS, xp), [3, 1], 2, 0.1), "X"),
    (lambda xp, v: xpnet.train(xpnet.asarray(_with(0.0), xp), xpnet.asarray(_with(v, shape=(1, 4)), xp),
                               [3, 1], 2, 0.1, output="identity"), "Y"),
    (lambda xp, v: xpnet.predict(xpnet.asarray(_with(v), xp), one_layer(xp, "float64", 3)), "X"),
    (lambda xp, v: xpnet.accuracy(xpnet.asarray(_with(0.0), xp), xpnet.asarray(_with(v, shape=(3, 4)), xp),
                                  one_layer(xp, "float64", 3)), "Y"),
    (lambda xp, v: xpnet.fit(_with(0.0), LABELS, [3, 1], epochs=1, verbose=0, backend=xp,
                             validation_data=(_with(v), LABELS)), "validation_data[0]"),
], ids=["train X", "train Y", "predict X", "accuracy Y", "fit validation X"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_nan_and_inf_in_data_are_refused_where_data_enters(xp, hostile, call, argument, value):
    with hostile.raises(ValueError, argument, "NaN or inf", "impute"):
        call(xp, value)


def test_forward_prop_keeps_a_nan_sample_to_its_own_column(xp, hostile):
    # The step functions check no values (that would wait for the device each step):
    # a NaN goes through, but it never spills into the other samples.
    params = xpnet.init_params([3, 4, 2], backend=xp)
    AL, _ = xpnet.forward_prop(xpnet.asarray(_with(np.nan), xp), params, hidden="relu", output="softmax")
    AL = host(AL)
    assert np.all(np.isnan(AL[:, 1]))
    assert np.all(np.isfinite(np.delete(AL, 1, axis=1)))
    hostile.handled()


# -- read-only and Fortran-ordered NumPy inputs --------------------------------------------------



def _train(X, Y):
    return xpnet.train(X, Y, [3, 4, 1], 3, 0.5)[1]


def _fit_batches(X, Y):
    return xpnet.fit(X, Y, [3, 4, 1], epochs=3, batch_size=2, optimizer="adam", validation_split=0.25,
                     verbose=0)[1].loss


def _step(X, Y):
    params = xpnet.init_params([3, 4, 1])
    AL, caches = xpnet.forward_prop(X, params, hidden="tanh")
    grads = xpnet.backprop(AL, Y, caches)
    return [float(xpnet.cost_function(AL, Y))] + [float(np.abs(g).sum()) for g in grads.values()]


def _evaluate(X, Y):
    params = xpnet.init_params([3, 1], scale=1.0)
    return host(xpnet.predict(X, params)).tolist() + [xpnet.accuracy(X, Y, params)]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("run", [_train, _fit_batches, _step, _evaluate],
                         ids=["train", "fit mini-batches", "forward/cost/backprop", "predict/accuracy"])
def test_read_only_and_fortran_inputs_work_and_stay_unchanged(hostile, layout, run):
    X, Y = data(m=8)
    X_in, Y_in = LAYOUTS[layout](X), LAYOUTS[layout](Y)
    assert run(X_in, Y_in) == run(X.copy(), Y.copy())
    np.testing.assert_array_equal(X_in, X)
    np.testing.assert_array_equal(Y_in, Y)
    hostile.handled()


def test_update_parameters_replaces_read_only_parameters_and_leaves_them_unchanged(hostile):
    params = {key: read_only(value) for key, value in xpnet.init_params([3, 2]).items()}
    originals = {key: value.copy() for key, value in params.items()}
    given = dict(params)
    grads = {"dW1": np.ones((2, 3)), "db1": np.ones((2, 1))}
    updated = xpnet.update_parameters(params, grads, 0.5)
    for key in originals:
        np.testing.assert_array_equal(given[key], originals[key])
        np.testing.assert_allclose(updated[key], originals[key] - 0.5)
    hostile.handled()


# -- malformed parameters, gradients and caches --------------------------------------------------

def _params(**changes):
    params = xpnet.init_params([3, 2, 1])
    params.update(changes)
    return {key: value for key, value in params.items() if value is not None}


X3, Y3 = data(m=4)
GRADS = {"dW1": np.zeros((2, 3)), "db1": np.zeros((2, 1)), "dW2": np.zeros((1, 2)), "db2": np.zeros((1, 1))}


@pytest.mark.parametrize("call, exception, words", [
    (lambda: xpnet.forward_prop(X3, _params(b1=np.zeros((3, 1)))), ValueError, ("b1", "(W1.shape[0], 1)")),
    (lambda: xpnet.forward_prop(X3, _params(W2=np.zeros((1, 5)))), ValueError, ("W2", "consecutive layers")),
    (lambda: xpnet.forward_prop(X3, _params(b2=None)), ValueError, ("params", "W1, b1, ..., WL, bL")),
    (lambda: xpnet.forward_prop(X3, [np.zeros((2, 3))]), TypeError, ("params", "dict")),
    (lambda: xpnet.forward_prop(X3, _params(W1=[[0.0] * 3] * 2)), TypeError, ("params['W1']", "asarray")),
    (lambda: xpnet.forward_prop(X3, _params(b1=np.zeros((2, 1), np.float32))), TypeError,
     ("params['b1']", "float32", "one dtype")),
    (lambda: xpnet.predict(X3, _params(W1=np.zeros((2, 3), np.int64), b1=np.zeros((2, 1), np.int64))),
     TypeError, ("params['W1']", "int64", "init_params")),
    (lambda: xpnet.forward_prop(X3.astype(np.float32), _params()), TypeError, ("X", "float32", "asarray")),
    (lambda: xpnet.update_parameters(_params(), {**GRADS, "dW1": np.zeros((3, 2))}, 0.1), ValueError,
     ("grads['dW1']", "(3, 2)", "must match")),
    (lambda: xpnet.update_parameters(_params(), {**GRADS, "dW1": np.zeros((2, 3), np.float32)}, 0.1),
     ValueError, ("grads['dW1']", "float32", "must match")),
    (lambda: xpnet.update_parameters(_params(), {k: v for k, v in GRADS.items() if k != "db2"}, 0.1),
     ValueError, ("db2", "backprop")),
    (lambda: xpnet.update_parameters(_params(), None, 0.1), TypeError, ("grads", "backprop")),
    (lambda: xpnet.update_parameters(_params(), GRADS, 0.0), ValueError, ("learning_rate", "> 0")),
    (lambda: xpnet.update_parameters(_params(), GRADS, float("nan")), ValueError, ("learning_rate", "finite")),
    (lambda: xpnet.update_parameters(_params(), GRADS, "0.1"), TypeError, ("learning_rate", "number")),
    (lambda: xpnet.update_parameters({k: v.astype(np.float32) for k, v in _params().items()},
                                     {k: v.astype(np.float32) for k, v in GRADS.items()}, 1e39),
     ValueError, ("learning_rate", "float32", "smaller")),
    (lambda: xpnet.backprop(np.full((1, 4), 0.5), Y3, [1, 2]), TypeError, ("caches[0]", "forward_prop")),
    (lambda: xpnet.backprop(np.full((1, 4), 0.5), Y3, None), TypeError, ("caches", "forward_prop")),
    (lambda: xpnet.backprop(np.full((1, 4), 0.5), Y3, []), ValueError, ("caches", "forward_prop")),
    (lambda: xpnet.backprop(*xpnet.forward_prop(X3, _params())[:1], np.ones((2, 4)),
                            xpnet.forward_prop(X3, _params())[1]), ValueError,
     ("Y", "(n_outputs, n_samples)")),
    (lambda: xpnet.train(X3, Y3, [3, 1], 2, 0.0), ValueError, ("lr", "> 0")),
    (lambda: xpnet.train(X3, Y3, [3, 1], -1, 0.1), ValueError, ("epochs", ">= 0")),
    (lambda: xpnet.train(X3, Y3, [3], 2, 0.1), ValueError, ("layer_dims", "at least 2")),
    (lambda: xpnet.train(X3, Y3, [3, 2.5, 1], 2, 0.1), ValueError, ("layer_dims[1]", "positive int")),
    (lambda: xpnet.train(X3, Y3 * 3, [3, 1], 2, 0.1), ValueError, ("Y", "0 and 1")),
    (lambda: xpnet.train(X3, Y3, [3, 2], 2, 0.1, output="softmax"), ValueError, ("Y", "(2, 4)")),
    (lambda: xpnet.predict(X3, _params(), threshold=float("nan")), ValueError, ("threshold", "[0, 1]")),
    (lambda: xpnet.accuracy(X3, Y3, _params(), output="identity"), ValueError, ("output", "predict")),
], ids=["b1 shape", "consecutive layers", "missing key", "params list", "params entry list",
        "params mixed dtypes", "params int", "X dtype vs params", "grads shape", "grads dtype",
        "grads missing key", "grads None", "learning_rate 0", "learning_rate nan", "learning_rate str",
        "learning_rate beyond float32",
        "caches junk", "caches None", "caches empty", "backprop Y shape", "train lr 0",
        "train epochs -1", "train one layer size", "train float layer size", "sigmoid Y not 0/1",
        "softmax Y rows", "predict threshold nan", "accuracy of a regression"])
def test_malformed_parameters_gradients_and_settings_are_refused(hostile, call, exception, words):
    with hostile.raises(exception, *words):
        call()


# -- unknown activation names --------------------------------------------------------------------

@pytest.mark.parametrize("call, exception, words", [
    (lambda: xpnet.forward_prop(X3, _params(), hidden="swish"), ValueError, ("hidden", "swish", "relu")),
    (lambda: xpnet.forward_prop(X3, _params(), output="Softmax"), ValueError, ("output", "Softmax", "softmax")),
    (lambda: xpnet.cost_function(np.full((1, 4), 0.5), Y3, output="hinge"), ValueError, ("output", "hinge", "sigmoid")),
    (lambda: xpnet.one_layer_backward(np.ones((2, 4)), xpnet.forward_prop(X3, _params())[1][0], "gelu"),
     ValueError, ("activation 'gelu'", "tanh")),
    (lambda: xpnet.train(X3, Y3, [3, 1], 2, 0.1, hidden=None), TypeError, ("hidden", "str")),
    (lambda: xpnet.predict(X3, _params(), output="logistic"), ValueError, ("output", "logistic", "sigmoid")),
    (lambda: xpnet.init_params([3, 1], scale="kaiming"), ValueError, ("scale", "he", "xavier")),
    (lambda: xpnet.train(X3, Y3, [3, 1], 2, 0.1, backend="tpu"), ValueError, ("backend", "tpu", "numpy")),
], ids=["hidden", "output case", "cost output", "one_layer_backward", "hidden None", "predict output",
        "init scale", "train backend"])
def test_unknown_names_are_refused_listing_the_valid_ones(hostile, call, exception, words):
    with hostile.raises(exception, *words):
        call()
