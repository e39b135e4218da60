"""The activation table: values, numerical safety, and the error for unknown names."""

import numpy as np
import pytest

import xpnet
from xpnet.activations import ACTIVATIONS, LEAKY_RELU_SLOPE, get_activation

Z_HOST = np.array([[-3.0, -0.5, 0.0, 0.5, 3.0], [10.0, -10.0, 1.0, -1.0, 2.0]])

REFERENCE = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z > 0, z, LEAKY_RELU_SLOPE * z),
    "tanh": np.tanh,
    "identity": lambda z: z,
    "softmax": lambda z: np.exp(z) / np.exp(z).sum(axis=0, keepdims=True),
}


def test_every_activation_has_a_reference():
    assert set(REFERENCE) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_forward_matches_the_textbook_formula(xp, name):
    A = ACTIVATIONS[name].forward(xpnet.asarray(Z_HOST, xp))
    np.testing.assert_allclose(xpnet.to_numpy(A), REFERENCE[name](Z_HOST), rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_forward_is_finite_and_warning_free_for_huge_inputs(xp, name, dtype):
    # pytest turns warnings into errors (pyproject), so an overflow warning fails here.
    Z = xpnet.asarray([[-1e4, -80.0, 0.0, 80.0, 1e4], [1e4, 1e4, -1e4, 0.0, 5.0]], xp, dtype)
    A = xpnet.to_numpy(ACTIVATIONS[name].forward(Z))
    if name not in ("identity", "relu", "leaky_relu"):
        assert np.all(np.isfinite(A))
    assert A.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_the_backward_that_may_overwrite_dA_gives_the_backward_numbers(xp, name):
    activation = ACTIVATIONS[name]
    A = activation.forward(xpnet.asarray(Z_HOST, xp))
    dA_host = np.array([[1.0, -2.0, 0.5, 3.0, -1.0], [np.inf, 2.0, -0.25, np.nan, 4.0]])
    with np.errstate(invalid="ignore"):
        expected = xpnet.to_numpy(activation.backward(xpnet.asarray(dA_host, xp), A))
        found = activation.backward_spending(xpnet.asarray(dA_host, xp), A)
    np.testing.assert_array_equal(xpnet.to_numpy(found), expected)


def test_sigmoid_keeps_relative_precision_in_the_negative_tail(xp):
    A = xpnet.to_numpy(ACTIVATIONS["sigmoid"].forward(xpnet.asarray([[-700.0, -40.0]], xp)))
    np.testing.assert_allclose(A, np.exp([[-700.0, -40.0]]) / (1 + np.exp([[-700.0, -40.0]])),
                               rtol=1e-14)


def test_softmax_columns_sum_to_one_for_extreme_logits(xp):
    Z = xpnet.asarray([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e-3], [0.0, -1e4, 2e-3]], xp)
    A = xpnet.to_numpy(ACTIVATIONS["softmax"].forward(Z))
    np.testing.assert_allclose(A.sum(axis=0), 1.0, rtol=1e-12)
    assert np.all(np.isfinite(A)) and np.all(A >= 0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_of_logits_spanning_more_than_the_float_range(xp, dtype):
    # Z - max(Z) overflows here (largest - (-largest)): the softmax must still be exact and
    # warning-free (pytest turns warnings into errors), the far-below logits giving 0.
    big = float(np.finfo(dtype).max)
    Z = xpnet.asarray([[big, -big, -big, 1.0], [-big, big, -0.5 * big, 1.0]], xp, dtype)
    A = xpnet.to_numpy(ACTIVATIONS["softmax"].forward(Z))
    np.testing.assert_array_equal(A, np.array([[1, 0, 0, 0.5], [0, 1, 1, 0.5]], dtype=dtype))


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown hidden activation 'gelu'; valid names are: "
                                         "identity, leaky_relu, relu, sigmoid, softmax, tanh"):
        get_activation("gelu", "hidden")


def test_activation_name_must_be_a_string():
    with pytest.raises(TypeError, match="output must be an activation name"):
        get_activation(None, "output")
