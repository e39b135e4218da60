"""The step's small operations give the array namespace's own results on every backend."""

import operator

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import xpnet
from xpnet import step_ops
from xpnet.backend import array_namespace

OPERATIONS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.gt, np.maximum]


@settings(max_examples=200, deadline=None)
@given(value=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e30, max_value=1e30),
       dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 2**31 - 1),
       op=st.sampled_from(OPERATIONS))
def test_scalar_gives_the_numbers_and_dtype_that_the_python_number_gives(value, dtype, seed, op):
    x = np.random.RandomState(seed).standard_normal((3, 4)).astype(dtype) * 1e3
    with np.errstate(all="ignore"):  # x / 0 on both sides alike
        expected, got = op(x, value), op(x, step_ops.scalar(x, value))
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_scalar_and_zero_hand_other_libraries_the_python_number(xp):
    x = xpnet.asarray(np.ones((2, 2)), xp)
    if type(x) is np.ndarray:
        assert step_ops.scalar(x, 0.5).shape == () and step_ops.scalar(x, 0.5).dtype == x.dtype
        assert step_ops.zero(x) is step_ops.zero(x)  # made once per dtype
    else:
        assert step_ops.scalar(x, 0.5) == 0.5 and type(step_ops.scalar(x, 0.5)) is float
        assert step_ops.zero(x) == 0.0


def test_scalar_of_an_integer_array_is_the_python_number():
    # Rounding 0.5 to an integer dtype would change the result: only floats get a 0-d array.
    assert step_ops.scalar(np.arange(3), 0.5) == 0.5


@pytest.mark.parametrize("axis", [0, 1])
def test_axis_reductions_and_astype_match_the_namespace(xp, axis):
    x = xpnet.asarray(np.random.RandomState(0).standard_normal((3, 5)), xp)
    ns = array_namespace(x)
    for got, expected in [(step_ops.axis_sum(x, axis), ns.sum(x, axis=axis, keepdims=True)),
                          (step_ops.axis_max(x, axis), ns.max(x, axis=axis, keepdims=True)),
                          (step_ops.astype(x > 0, x.dtype), ns.astype(x > 0, x.dtype))]:
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_array_equal(xpnet.to_numpy(got), xpnet.to_numpy(expected))


def test_float_limits_are_finfo_of_that_namespace_and_dtype(xp):
    for dtype in (xp.float32, xp.float64):
        info = xp.finfo(dtype)
        assert step_ops.float_limits(xp, dtype) == (float(info.eps), float(info.max))


def test_take_and_argmax_match_the_namespace(xp):
    x = xpnet.asarray(np.random.RandomState(1).standard_normal((4, 3)), xp)
    ns = array_namespace(x)
    rows = xpnet.asarray(np.array([2, 0, 2]), xp)
    np.testing.assert_array_equal(xpnet.to_numpy(step_ops.take(x, rows, 0)),
                                  xpnet.to_numpy(ns.take(x, rows, axis=0)))
    np.testing.assert_array_equal(xpnet.to_numpy(step_ops.argmax(x, 0)),
                                  xpnet.to_numpy(ns.argmax(x, axis=0)))
    assert float(step_ops.total(x)) == float(ns.sum(x))


def test_zero_is_read_only_as_it_is_shared():
    shared = step_ops.zero(np.ones(2, dtype=np.float32))
    with pytest.raises(ValueError, match="read-only"):
        shared[...] = 1.0


def test_float_limits_of_a_dtype_that_cannot_be_hashed_are_asked_every_time():
    import types

    asked = []
    namespace = types.SimpleNamespace(finfo=lambda d: asked.append(d) or types.SimpleNamespace(
        eps=0.5, max=8.0))
    unhashable = ["a dtype object of some library"]
    assert step_ops.float_limits(namespace, unhashable) == (0.5, 8.0)
    assert step_ops.float_limits(namespace, unhashable) == (0.5, 8.0)
    assert len(asked) == 2
