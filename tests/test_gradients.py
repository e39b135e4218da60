"""The gradient objects and the one update operation every rule is written with."""

import numpy as np
import pytest

import xpnet
from xpnet.gradients import Gradient, WeightGradient, add_scaled


def host(a):
    return xpnet.to_numpy(a)


@pytest.mark.parametrize("beta", [1.0, 0.9])
def test_add_scaled_rounds_each_product_as_the_textbook_expression_does(xp, beta):
    rng = np.random.RandomState(0)
    target_host, x_host = rng.randn(3, 4), rng.randn(3, 4)
    expected = beta * target_host + (-0.1) * x_host if beta != 1.0 else target_host + (-0.1) * x_host
    result = add_scaled(xpnet.asarray(target_host.copy(), xp), -0.1, xpnet.asarray(x_host, xp), beta)
    np.testing.assert_array_equal(host(result), expected)


def test_a_gradient_copies_an_array_it_does_not_own(xp):
    array = xpnet.asarray(np.ones((2, 2)), xp)
    assert Gradient(array, owned=True).value() is array
    copy = Gradient(array).value()
    assert copy is not array
    np.testing.assert_array_equal(host(copy), np.ones((2, 2)))


@pytest.mark.parametrize("weight_decay", [0.0, 0.25])
def test_a_weight_gradient_is_the_product_plus_the_penalty(xp, weight_decay):
    rng = np.random.RandomState(1)
    dZ, A_prev, W = rng.randn(3, 5), rng.randn(2, 5), rng.randn(3, 2)
    gradient = WeightGradient(*(xpnet.asarray(a, xp) for a in (dZ, A_prev, W)), weight_decay)
    expected = dZ @ A_prev.T + weight_decay * W if weight_decay else dZ @ A_prev.T
    np.testing.assert_allclose(host(gradient.value()), expected, rtol=1e-14)
    # Off CuPy nothing folds: add_into is the generic arithmetic on that value.
    target = xpnet.asarray(W.copy(), xp)
    np.testing.assert_allclose(host(gradient.add_into(target, -0.5, 1.0)), W + (-0.5) * expected,
                               rtol=1e-14)
