"""The output table: one entry per output kind, and what each entry means."""

import numpy as np
import pytest

import xpnet
from xpnet.activations import ACTIVATIONS
from xpnet.outputs import OUTPUTS, classifier_output, get_output


def test_every_activation_can_be_an_output_and_only_probabilities_classify():
    assert set(OUTPUTS) == set(ACTIVATIONS)
    assert {name for name, entry in OUTPUTS.items() if entry.classifier} == {"sigmoid", "softmax"}
    assert {name for name, entry in OUTPUTS.items() if entry.canonical} == {"sigmoid", "softmax",
                                                                              "identity"}
    assert all(OUTPUTS[name].activation is ACTIVATIONS[name] for name in OUTPUTS)


def test_an_unknown_output_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown output activation 'hinge'; valid names are: "
                                         "identity, leaky_relu, relu, sigmoid, softmax, tanh"):
        get_output("hinge")
    with pytest.raises(TypeError, match="output must be an activation name"):
        get_output(3)
    assert get_output(OUTPUTS["tanh"]) is OUTPUTS["tanh"]


def test_two_classes_take_one_sigmoid_unit_and_more_take_softmax():
    assert [classifier_output(n) for n in (2, 3, 10)] == ["sigmoid", "softmax", "softmax"]


@pytest.mark.parametrize("name, n_classes", [("sigmoid", 2), ("softmax", 4)])
def test_targets_made_from_class_indices_are_valid_and_read_back_as_those_classes(xp, name, n_classes):
    output = OUTPUTS[name]
    indices = xpnet.asarray(np.array([0, 1, 1, 0, n_classes - 1]), xp)
    Y = output.targets(indices, n_classes, xp.float64)
    output.check_targets(Y, "Y")  # raises for invalid targets
    # Targets are a perfect prediction: they read back as the classes, and count as all correct.
    np.testing.assert_array_equal(xpnet.to_numpy(output.class_indices(Y)), xpnet.to_numpy(indices))
    assert float(output.correct_count(Y, Y)) == 5
    probabilities = xpnet.to_numpy(output.probabilities(Y))
    assert probabilities.shape == (5, n_classes)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_predictions_follow_the_output_kind(xp):
    AL = xpnet.asarray(np.array([[0.2, 0.7, 0.6], [0.8, 0.3, 0.4]]), xp)
    np.testing.assert_array_equal(xpnet.to_numpy(OUTPUTS["sigmoid"].predict(AL, 0.5)),
                                  [[0, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal(xpnet.to_numpy(OUTPUTS["softmax"].predict(AL, 0.5)), [[1, 0, 0]])
    assert OUTPUTS["identity"].predict(AL, 0.5) is AL


@pytest.mark.parametrize("name", ["relu", "tanh", "leaky_relu"])
def test_a_non_canonical_output_reaches_squared_error_through_the_chain_rule(xp, name):
    rng = np.random.RandomState(0)
    AL_host = np.abs(rng.rand(2, 5)) * 0.9 + 0.05
    Y_host = rng.rand(2, 5)
    AL, Y = xpnet.asarray(AL_host, xp), xpnet.asarray(Y_host, xp)
    expected = ACTIVATIONS[name].backward(xpnet.asarray((AL_host - Y_host) / 5, xp), AL)
    np.testing.assert_allclose(xpnet.to_numpy(OUTPUTS[name].gradient(AL, Y)),
                               xpnet.to_numpy(expected), rtol=1e-15)


@pytest.mark.parametrize("name, bad, message", [
    ("sigmoid", [[0.0, 2.0]], "only 0 and 1"),
    ("softmax", [[1.0, 0.5], [1.0, 0.5]], "one-hot"),
    ("identity", [[0.0, np.nan]], "NaN or inf"),
])
def test_each_output_refuses_the_targets_its_loss_cannot_take(xp, name, bad, message):
    with pytest.raises(ValueError, match=message):
        OUTPUTS[name].check_targets(xpnet.asarray(np.array(bad), xp), "Y")
