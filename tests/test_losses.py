"""cost_function: values, stability at saturation, shapes and types."""

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module

AL_HOST = np.array([[0.9, 0.2, 0.6, 0.01]])
Y_HOST = np.array([[1.0, 0.0, 1.0, 0.0]])


def test_binary_cross_entropy_matches_the_formula(xp):
    cost = xpnet.cost_function(xpnet.asarray(AL_HOST, xp), xpnet.asarray(Y_HOST, xp))
    expected = -np.mean(Y_HOST * np.log(AL_HOST) + (1 - Y_HOST) * np.log(1 - AL_HOST))
    assert float(cost) == pytest.approx(expected, rel=1e-14)


def test_cost_is_a_zero_dimensional_array_on_the_backend(xp):
    cost = xpnet.cost_function(xpnet.asarray(AL_HOST, xp), xpnet.asarray(Y_HOST, xp))
    assert cost.shape == () and backend_module.namespace_of(cost=cost) is xp


def test_categorical_cross_entropy_matches_the_formula(xp):
    AL = np.array([[0.7, 0.1], [0.2, 0.3], [0.1, 0.6]])
    Y = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    cost = xpnet.cost_function(xpnet.asarray(AL, xp), xpnet.asarray(Y, xp), output="softmax")
    assert float(cost) == pytest.approx(-(np.log(0.7) + np.log(0.6)) / 2, rel=1e-14)


@pytest.mark.parametrize("output", ["identity", "relu", "tanh"])
def test_other_outputs_use_half_the_squared_error(xp, output):
    AL, Y = np.array([[1.0, 2.0, 3.0], [0.0, 0.5, 1.0]]), np.array([[1.5, 2.0, 2.0], [0.0, 0.0, 1.0]])
    cost = xpnet.cost_function(xpnet.asarray(AL, xp), xpnet.asarray(Y, xp), output=output)
    assert float(cost) == pytest.approx(((AL - Y) ** 2).sum() / (2 * 3), rel=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_cost_is_finite_for_saturated_outputs(xp, output, dtype):
    AL = xpnet.asarray([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]], xp, dtype)
    Y = xpnet.asarray([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], xp, dtype)
    cost = xpnet.cost_function(AL, Y, output=output)
    assert np.isfinite(float(cost)) and float(cost) > 1.0
    assert cost.dtype == AL.dtype


def test_a_one_dimensional_y_fits_a_single_output(xp):
    AL = xpnet.asarray(AL_HOST, xp)
    assert float(xpnet.cost_function(AL, xpnet.asarray(Y_HOST[0], xp))) == \
        pytest.approx(float(xpnet.cost_function(AL, xpnet.asarray(Y_HOST, xp))))


def test_integer_labels_give_the_same_cost_as_float_labels(xp):
    AL = xpnet.asarray(AL_HOST, xp)
    as_int = xpnet.cost_function(AL, xpnet.asarray([[1, 0, 1, 0]], xp))
    assert float(as_int) == float(xpnet.cost_function(AL, xpnet.asarray(Y_HOST, xp)))


def test_one_dimensional_al_is_refused(xp):
    with pytest.raises(ValueError, match="AL must be 2-D"):
        xpnet.cost_function(xpnet.asarray(AL_HOST[0], xp), xpnet.asarray(Y_HOST[0], xp))


def test_mismatched_shapes_name_both(xp):
    with pytest.raises(ValueError, match=r"Y has shape \(2, 4\) but AL has shape \(1, 4\)"):
        xpnet.cost_function(xpnet.asarray(AL_HOST, xp), xpnet.asarray(np.zeros((2, 4)), xp))


def test_unknown_output_lists_the_valid_names(xp):
    with pytest.raises(ValueError, match="unknown output activation 'hinge'"):
        xpnet.cost_function(xpnet.asarray(AL_HOST, xp), xpnet.asarray(Y_HOST, xp), output="hinge")


def test_a_list_instead_of_an_array_is_a_type_error():
    with pytest.raises(TypeError, match="AL must be an array.*xpnet.asarray"):
        xpnet.cost_function([[0.5]], np.array([[1.0]]))


def test_class_labels_given_to_a_softmax_cost_point_to_one_hot_with_the_call(xp):
    AL = xpnet.asarray(np.full((3, 4), 1 / 3), xp)
    with pytest.raises(ValueError, match=r"Y = xpnet\.datasets\.one_hot\(Y, 3\)"):
        xpnet.cost_function(AL, xpnet.asarray([0, 2, 1, 0], xp), output="softmax")


def test_a_wrongly_shaped_target_of_one_output_gets_no_one_hot_hint(xp):
    AL = xpnet.asarray(AL_HOST, xp)
    with pytest.raises(ValueError, match="like AL") as error:
        xpnet.cost_function(AL, xpnet.asarray([1.0, 0.0], xp))
    assert "one_hot" not in str(error.value)
