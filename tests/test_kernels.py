"""The CuPy elementwise kernels against the generic code they replace, and their fallback."""

import numpy as np
import pytest

import xpnet
from xpnet.activations import get_activation
from xpnet.kernels import add_scaled_into, bias_relu_into, relu_backward

from conftest import CPU_BACKENDS, load_backend

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 3.5, -2.25]


def awkward_values(shape, dtype, seed):
    """Random values with NaN, infinities, signed zeros and tiny numbers sprinkled in."""
    rng = np.random.RandomState(seed)
    values = rng.standard_normal(shape).astype(dtype)
    spots = rng.rand(*shape) < 0.2
    values[spots] = rng.choice(np.array(SPECIAL, dtype=dtype), size=int(spots.sum()))
    return values


@pytest.mark.parametrize("name", CPU_BACKENDS)
def test_the_elementwise_kernels_decline_off_cupy_and_touch_nothing(name):
    xp = load_backend(name)
    Z = xpnet.asarray(awkward_values((4, 5), "float64", 0), xp)
    b = xpnet.asarray(awkward_values((4, 1), "float64", 1), xp)
    before = xpnet.to_numpy(Z).copy()
    assert bias_relu_into(Z, b) is False
    np.testing.assert_array_equal(xpnet.to_numpy(Z), before)
    assert relu_backward(Z, b * Z) is None
    assert add_scaled_into(Z, -0.5, b * Z) is False
    np.testing.assert_array_equal(xpnet.to_numpy(Z), before)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_bias_relu_kernel_writes_the_generic_values_in_place(dtype):
    import cupy

    Z_host, b_host = awkward_values((64, 33), dtype, 2), awkward_values((64, 1), dtype, 3)
    Z, b = cupy.asarray(Z_host), cupy.asarray(b_host)
    with np.errstate(invalid="ignore"):  # inf + -inf in the reference
        expected = np.maximum(Z_host + b_host, 0)
    assert bias_relu_into(Z, b) is True
    np.testing.assert_array_equal(Z.get(), expected)  # NaN where NaN, 0 where <= 0
    assert bias_relu_into(Z, cupy.asarray(b_host.T)) is False, "a bias of the wrong shape"


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_relu_backward_kernel_gives_the_generic_numbers(dtype):
    import cupy

    dA_host, A_host = awkward_values((64, 33), dtype, 4), awkward_values((64, 33), dtype, 5)
    dA, A = cupy.asarray(dA_host), cupy.asarray(A_host)
    with np.errstate(invalid="ignore"):  # inf * 0 in the reference
        expected = dA_host * (A_host > 0).astype(dtype)
    found = relu_backward(dA, A)
    assert found is not dA and found.dtype == dA.dtype
    np.testing.assert_array_equal(found.get(), expected)  # NaN where inf or NaN meets A <= 0
    np.testing.assert_array_equal(get_activation("relu").backward(dA, A).get(), expected)
    assert relu_backward(dA, A[:, :1]) is None, "shapes that differ take the generic path"


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_relu_backward_kernel_writes_into_the_input_gradient_when_asked(dtype):
    import cupy

    dA_host, A_host = awkward_values((64, 33), dtype, 6), awkward_values((64, 33), dtype, 7)
    with np.errstate(invalid="ignore"):  # inf * 0 in the reference
        expected = dA_host * (A_host > 0).astype(dtype)
    dA, A = cupy.asarray(dA_host), cupy.asarray(A_host)
    assert relu_backward(dA, A, out=dA) is dA
    np.testing.assert_array_equal(dA.get(), expected)
    dA = cupy.asarray(dA_host)
    found = get_activation("relu").backward_spending(dA, A)
    assert found is dA, "the training step's relu backward makes no array of the layer's size"
    np.testing.assert_array_equal(found.get(), expected)
    assert relu_backward(dA, A, out=dA[:, :1]) is None, "an out of another shape is refused"


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_update_kernel_rounds_as_the_generic_update(dtype):
    import cupy

    W_host, g_host = awkward_values((64, 33), dtype, 7), awkward_values((64, 33), dtype, 8)
    # A learning rate whose product with g is inexact, so a fused multiply-add would differ.
    learning_rate = 0.1 + 1e-3
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, and overflow to inf
        expected = W_host + dtype_of(W_host)(-learning_rate) * g_host
    W, g = cupy.asarray(W_host), cupy.asarray(g_host)
    generic = W - learning_rate * g  # CuPy's own two-kernel arithmetic
    np.testing.assert_array_equal(generic.get(), expected)
    assert add_scaled_into(W, -learning_rate, g) is True
    np.testing.assert_array_equal(W.get(), expected)
    assert add_scaled_into(W, -learning_rate, g[:, :1]) is False, "a shape that differs"
    params = {"W1": cupy.asarray(W_host), "b1": cupy.zeros((64, 1), dtype)}
    grads = {"dW1": g, "db1": cupy.ones((64, 1), dtype)}
    xpnet.update_parameters(params, grads, learning_rate)
    np.testing.assert_array_equal(params["W1"].get(), expected)


def dtype_of(array):
    """The NumPy scalar type of ``array`` (the learning rate is rounded to it first)."""
    return array.dtype.type


@pytest.mark.gpu
def test_a_relu_network_on_cupy_gives_the_numpy_numbers():
    cupy = load_backend("cupy")
    dims = [7, 16, 16, 3]
    rng = np.random.RandomState(6)
    X = rng.standard_normal((dims[0], 20))
    Y = np.eye(dims[-1])[:, rng.randint(dims[-1], size=20)]
    results = []
    for xp in (np, cupy):
        params = xpnet.init_params(dims, seed=1, scale="he", dtype="float64", backend=xp)
        AL, caches = xpnet.forward_prop(xpnet.asarray(X, xp), params, hidden="relu",
                                        output="softmax")
        grads = xpnet.backprop(AL, xpnet.asarray(Y, xp), caches)
        results.append({"AL": xpnet.to_numpy(AL), **{k: xpnet.to_numpy(v) for k, v in grads.items()}})
    for key, value in results[0].items():
        np.testing.assert_allclose(results[1][key], value, rtol=1e-12, atol=1e-14, err_msg=key)
