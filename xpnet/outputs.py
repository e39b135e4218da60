"""The output table: everything an output layer's kind means, in one entry per kind.

An output kind is named after its activation (``output="softmax"``) and decides the
loss it is trained with, the output layer's gradient ``dZ``, how predictions are read
off ``AL``, whether accuracy applies, and which targets ``Y`` are valid. Every module
asks this table; none compares output names itself. To add an output kind, add one
entry to :data:`OUTPUTS`.

Each activation has one natural ("canonical") loss: sigmoid -> binary cross-entropy,
softmax -> categorical cross-entropy, identity -> squared error. For these pairs the
gradient with respect to the output layer's ``Z`` is simply ``(AL - Y) / m``; the
tutorial's ``-(Y/AL - (1-Y)/(1-AL))`` divides by values that reach 0. Any other
activation used as an output gets squared error through the chain rule.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .activations import ACTIVATIONS, Activation
from .backend import array_namespace, default_int_dtype, in_place
from .losses import BINARY_CROSS_ENTROPY, CATEGORICAL_CROSS_ENTROPY, SQUARED_ERROR, Loss
from .step_ops import argmax, astype, scalar, total
from .validation import check_finite

Array = Any


@dataclass(frozen=True)
class Output:
    """One output kind: its activation, loss, gradient, predictions, metric and targets.

    ``predict(AL, threshold)`` gives what :func:`xpnet.predict` returns;
    ``check_targets(Y, name)`` raises ``ValueError`` naming ``name`` for targets the loss
    cannot take; ``correct_count(AL, Y)`` (classifiers only) the number of correctly
    classified samples as a 0-d array; ``probabilities(AL)`` (classifiers only) the class
    probabilities shaped ``(n_samples, n_classes)``, ``class_indices(AL)`` the predicted
    class of each sample (1-D), and ``targets(indices, n_classes, dtype)`` the ``Y`` that
    trains towards the classes ``indices`` (1-D); ``chance_accuracy(Y)`` the accuracy, as
    a 0-d array, of always guessing the most common class of targets ``Y``.
    """

    name: str
    loss: Loss
    canonical: bool  # the loss is the activation's natural partner: dZ = (AL - Y) / m
    predict: Callable[[Array, float], Array]
    check_targets: Callable[[Array, str], None]
    correct_count: Callable[[Array, Array], Array] | None = None
    probabilities: Callable[[Array], Array] | None = None
    class_indices: Callable[[Array], Array] | None = None
    targets: Callable[[Array, int, Any], Array] | None = None
    chance_accuracy: Callable[[Array], Array] | None = None

    @property
    def activation(self) -> Activation:
        return ACTIVATIONS[self.name]

    @property
    def classifier(self) -> bool:
        """Whether the output classifies (accuracy applies)."""
        return self.correct_count is not None

    def cost(self, AL: Array, Y: Array, weights: Array | None = None) -> Array:
        """The mean loss over the samples, a 0-d array (``Y`` already matched to ``AL``);
        with ``weights`` (a ``(1, m)`` row summing to 1), the weighted mean."""
        if weights is None:
            return self.loss.cost(AL, Y)
        return self.loss.cost(AL, Y, weights)

    def gradient(self, AL: Array, Y: Array, weights: Array | None = None) -> Array:
        """dCost/dZ of the output layer, a new array; ``weights`` as in :meth:`cost`."""
        # Each sample's share of the mean: 1/m, or its weight.
        scale, share = ((operator.truediv, scalar(AL, AL.shape[1])) if weights is None
                        else (operator.mul, weights))
        if self.canonical:
            return in_place(AL - Y, scale, share)
        return self.activation.backward(scale(self.loss.gradient(AL, Y), share), AL)


def _binary_targets(Y: Array, name: str) -> None:
    check_finite(Y, name)
    xp = array_namespace(Y)
    if not bool(xp.all((Y == 0) | (Y == 1))):
        raise ValueError(f"{name} must hold only 0 and 1 for a sigmoid output (binary cross-entropy)")


def _one_hot_targets(Y: Array, name: str) -> None:
    check_finite(Y, name)
    xp = array_namespace(Y)
    column_sums = xp.sum(Y, axis=0)
    if not bool(xp.all(Y >= 0) & xp.all(xp.abs(column_sums - 1) < 1e-6)):
        raise ValueError(f"{name} must be one-hot (or probability) columns for a softmax output: "
                         "entries >= 0 and each column summing to 1")


def _thresholded(AL: Array, threshold: float) -> Array:
    xp = array_namespace(AL)
    return xp.astype(AL > threshold, default_int_dtype(xp))


def _arg_max(AL: Array, threshold: float) -> Array:
    return array_namespace(AL).argmax(AL, axis=0, keepdims=True)


def _values(AL: Array, threshold: float) -> Array:
    return AL


def _binary_hits(AL: Array, Y: Array) -> Array:
    # Each output thresholded at 0.5, averaged over the outputs of a multi-label network.
    xp = array_namespace(AL, Y)
    hits = (AL > 0.5) == (Y > 0.5)
    return xp.sum(xp.astype(hits, AL.dtype)) / AL.shape[0]


def _arg_max_hits(AL: Array, Y: Array) -> Array:
    hits = argmax(AL, 0) == argmax(Y, 0)
    return total(astype(hits, AL.dtype))


def _two_class_probabilities(AL: Array) -> Array:
    # One sigmoid unit: P(class 1) = AL, P(class 0) = 1 - AL.
    return array_namespace(AL).stack([1 - AL[0, :], AL[0, :]], axis=1)


def _column_probabilities(AL: Array) -> Array:
    return array_namespace(AL).asarray(AL.T, copy=True)


def _above_half(AL: Array) -> Array:
    xp = array_namespace(AL)
    return xp.astype(AL[0, :] > 0.5, default_int_dtype(xp))


def _arg_max_indices(AL: Array) -> Array:
    return array_namespace(AL).argmax(AL, axis=0)


def _index_row(indices: Array, n_classes: int, dtype: Any) -> Array:
    # Two classes, one sigmoid unit: the target is the class index itself, 0 or 1.
    xp = array_namespace(indices)
    return xp.reshape(xp.astype(indices, dtype), (1, indices.shape[0]))


def _one_hot_columns(indices: Array, n_classes: int, dtype: Any) -> Array:
    xp = array_namespace(indices)
    classes = xp.arange(n_classes, dtype=indices.dtype)
    return xp.astype(classes[:, None] == indices[None, :], dtype)


def _binary_chance(Y: Array) -> Array:
    # Per output, the share of its more common value; averaged as accuracy averages outputs.
    xp = array_namespace(Y)
    shares = xp.mean(Y, axis=1)
    return xp.mean(xp.maximum(shares, 1 - shares))


def _largest_class_share(Y: Array) -> Array:
    xp = array_namespace(Y)
    return xp.max(xp.mean(Y, axis=1))


def _regression(name: str) -> Output:
    # Squared error is identity's natural loss; other activations reach it through the chain rule.
    return Output(name, SQUARED_ERROR, canonical=name == "identity", predict=_values,
                  check_targets=check_finite)


OUTPUTS: dict[str, Output] = {
    "sigmoid": Output("sigmoid", BINARY_CROSS_ENTROPY, canonical=True, predict=_thresholded,
                      check_targets=_binary_targets, correct_count=_binary_hits,
                      probabilities=_two_class_probabilities, class_indices=_above_half,
                      targets=_index_row, chance_accuracy=_binary_chance),
    "softmax": Output("softmax", CATEGORICAL_CROSS_ENTROPY, canonical=True, predict=_arg_max,
                      check_targets=_one_hot_targets, correct_count=_arg_max_hits,
                      probabilities=_column_probabilities, class_indices=_arg_max_indices,
                      targets=_one_hot_columns, chance_accuracy=_largest_class_share),
}
OUTPUTS.update({name: _regression(name) for name in sorted(ACTIVATIONS) if name not in OUTPUTS})


def get_output(name: str | Output) -> Output:
    """The output kind called ``name`` (an :class:`Output` is returned as it is)."""
    if isinstance(name, Output):
        return name
    if not isinstance(name, str):
        raise TypeError(f"output must be an activation name (str), not {type(name).__name__}")
    try:
        return OUTPUTS[name]
    except KeyError:
        raise ValueError(f"unknown output activation {name!r}; "
                         f"valid names are: {', '.join(sorted(OUTPUTS))}") from None


def classifier_output(n_classes: int) -> str:
    """The output kind for ``n_classes`` classes: one sigmoid unit for two, softmax for more."""
    return "sigmoid" if n_classes == 2 else "softmax"
