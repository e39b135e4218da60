"""The shared checks of user input in xpnet.validation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xpnet
from xpnet.validation import check_flag, check_split


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_])
def test_check_flag_gives_python_bools_for_python_and_numpy_bools(value):
    flag = check_flag(value, "shuffle")
    assert type(flag) is bool and flag == bool(value)


@pytest.mark.parametrize("value", ["yes", "False", 1, 0, 1.0, None, [True], np.int64(1),
                                   np.array(True), np.array([True])],
                         ids=repr)
def test_check_flag_refuses_anything_else_naming_the_argument_and_the_value(value):
    with pytest.raises(TypeError) as raised:
        check_flag(value, "early_stopping")
    assert str(raised.value) == f"early_stopping must be True or False, got {value!r}"


@pytest.mark.parametrize("fraction, n_samples, held_out", [
    (0.1, 100, 10), (0.25, 8, 2), (0.5, 2, 1), (0.2, 3, 1), (0.75, 4, 3),
])
def test_check_split_returns_how_many_samples_are_held_out(fraction, n_samples, held_out):
    assert check_split(fraction, n_samples, "validation_split") == held_out


@given(fraction=st.floats(0.0, 1.0, exclude_min=True, exclude_max=True),
       n_samples=st.integers(1, 10**6))
def test_check_split_leaves_a_sample_on_each_side_or_says_why(fraction, n_samples):
    try:
        held_out = check_split(fraction, n_samples, "validation_split")
    except ValueError as exc:
        assert f"of {n_samples} samples holds out" in str(exc)
    else:
        assert 1 <= held_out < n_samples and abs(held_out - fraction * n_samples) <= 0.5


@pytest.mark.parametrize("fraction, n_samples, held_out", [(0.1, 4, 0), (0.95, 10, 10), (0.5, 1, 0)])
def test_check_split_refuses_an_empty_side_naming_the_argument_and_the_counts(fraction, n_samples,
                                                                              held_out):
    with pytest.raises(ValueError) as raised:
        check_split(fraction, n_samples, "validation_split")
    assert str(raised.value) == (
        f"validation_split={fraction} of {n_samples} samples holds out {held_out} for validation, "
        "which needs at least one sample on each side; use more data or another validation_split")


def test_check_split_offers_the_callers_alternative_fix():
    with pytest.raises(ValueError, match=r"use more data, another validation_fraction or "
                                         r"early_stopping=False$"):
        check_split(0.1, 4, "validation_fraction", alternative="early_stopping=False")


@pytest.mark.parametrize("fraction", [0.0, 1.0, 1.5, -0.1, float("nan"), True, "0.1", None])
def test_check_split_refuses_a_fraction_outside_0_1_naming_the_argument(fraction):
    with pytest.raises(ValueError, match=r"validation_fraction must be a number in \(0, 1\), got"):
        check_split(fraction, 100, "validation_fraction")


@pytest.mark.parametrize("shape", ["1-D", "one row"])
@pytest.mark.parametrize("entry", ["train", "fit"])
def test_class_labels_for_a_softmax_output_point_to_one_hot_with_the_call(entry, shape):
    rng = np.random.RandomState(0)
    X, y = rng.randn(2, 30), rng.randint(3, size=30)
    labels = y if shape == "1-D" else y[np.newaxis, :]
    with pytest.raises(ValueError, match=r"Y = xpnet\.datasets\.one_hot\(Y, 3\)"):
        getattr(xpnet, entry)(X, labels, [2, 8, 3], epochs=1, lr=0.1, output="softmax")
    # the call the message shows is the fix
    getattr(xpnet, entry)(X, xpnet.datasets.one_hot(labels, 3), [2, 8, 3], epochs=1, lr=0.1,
                          output="softmax")
