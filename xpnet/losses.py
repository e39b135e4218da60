"""Cost functions and the output layer's gradient.

The loss follows from the output activation, as each activation has one natural
("canonical") loss: sigmoid -> binary cross-entropy, softmax -> categorical
cross-entropy, anything else -> squared error. For these canonical pairs the
gradient with respect to the output layer's ``Z`` is simply ``(AL - Y) / m``; the
tutorial's ``-(Y/AL - (1-Y)/(1-AL))`` divides by values that reach 0 and is only
used (in its clipped form) when the pair is not canonical.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .activations import get_activation
from .backend import array_namespace, into, is_dtype, machine_epsilon, namespace_of

Array = Any


def _clipped(P: Array, upper_gap: bool) -> Array:
    # Probabilities kept inside [eps, 1 - eps] (scikit-learn's choice) so log() stays finite.
    xp = array_namespace(P)
    eps = machine_epsilon(xp, P.dtype)
    # maximum/minimum rather than clip: array-api-compat's clip is several times slower on NumPy.
    return xp.minimum(xp.maximum(P, eps), 1 - eps if upper_gap else 1.0)


def _binary_cross_entropy(AL: Array, Y: Array) -> Array:
    xp = array_namespace(AL, Y)
    P = _clipped(AL, upper_gap=True)
    return -xp.sum(Y * xp.log(P) + (1 - Y) * xp.log1p(-P)) / AL.shape[1]


def _categorical_cross_entropy(AL: Array, Y: Array) -> Array:
    xp = array_namespace(AL, Y)
    return -xp.sum(Y * xp.log(_clipped(AL, upper_gap=False))) / AL.shape[1]


def _squared_error(AL: Array, Y: Array) -> Array:
    xp = array_namespace(AL, Y)
    D = AL - Y
    return xp.sum(D * D) / (2 * AL.shape[1])


def _squared_error_gradient(AL: Array, Y: Array) -> Array:
    return AL - Y


@dataclass(frozen=True)
class Loss:
    """A cost (mean over samples), its canonical output activation, and its per-sample
    gradient with respect to ``AL`` where it is also paired with other outputs."""

    name: str
    cost: Callable[[Array, Array], Array]
    canonical_output: str
    gradient: Callable[[Array, Array], Array] | None = None


# The cross-entropies only ever meet their canonical output (loss_for_output picks
# them for nothing else), so they need no gradient with respect to AL.
BINARY_CROSS_ENTROPY = Loss("binary_cross_entropy", _binary_cross_entropy, "sigmoid")
CATEGORICAL_CROSS_ENTROPY = Loss("categorical_cross_entropy", _categorical_cross_entropy, "softmax")
SQUARED_ERROR = Loss("squared_error", _squared_error, "identity", _squared_error_gradient)

_LOSS_FOR_OUTPUT = {"sigmoid": BINARY_CROSS_ENTROPY, "softmax": CATEGORICAL_CROSS_ENTROPY}


def loss_for_output(output: str) -> Loss:
    """The loss paired with an output activation (squared error for non-probability outputs)."""
    get_activation(output, "output")  # rejects unknown names with the list of valid ones
    return _LOSS_FOR_OUTPUT.get(output, SQUARED_ERROR)


def match_labels(AL: Array, Y: Array) -> Array:
    """``Y`` shaped and typed like ``AL``; a 1-D ``Y`` of length m fits a ``(1, m)`` ``AL``."""
    xp = namespace_of(AL=AL, Y=Y)
    if not is_dtype(xp, AL.dtype, "real floating"):
        raise TypeError(f"AL has dtype {AL.dtype}; it must be the real floating output of forward_prop")
    if not is_dtype(xp, Y.dtype, ("bool", "integral", "real floating")):
        raise TypeError(f"Y has dtype {Y.dtype}; Y must hold real numbers: convert it, e.g. "
                        "xpnet.asarray(Y, dtype='float64')")
    if AL.ndim != 2:
        raise ValueError(f"AL must be 2-D, shaped (n_outputs, n_samples); got shape {tuple(AL.shape)}")
    if AL.shape[1] == 0:
        raise ValueError("AL has 0 samples (columns); the cost and its gradients are means over "
                         "the samples and need at least one")
    if Y.ndim == 1 and AL.ndim == 2 and AL.shape[0] == 1 and Y.shape[0] == AL.shape[1]:
        Y = xp.reshape(Y, AL.shape)
    if Y.shape != AL.shape:
        raise ValueError(f"Y has shape {tuple(Y.shape)} but AL has shape {tuple(AL.shape)}; Y must be "
                         "shaped (n_outputs, n_samples) like AL (one-hot columns for a softmax output)")
    return Y if Y.dtype == AL.dtype else xp.astype(Y, AL.dtype)


def cost_function(AL: Array, Y: Array, *, output: str = "sigmoid") -> Array:
    """Mean cost over the samples (columns) of ``AL``, as a 0-d array on ``AL``'s backend.

    ``output`` names the output activation that produced ``AL`` and picks the loss:
    binary cross-entropy for ``"sigmoid"``, categorical cross-entropy for
    ``"softmax"`` (``Y`` one-hot), and half the squared error, ``sum((AL - Y)**2) / (2m)``,
    for the others. Probabilities are clipped to ``[eps, 1 - eps]`` of their dtype,
    so saturated outputs give a large but finite cost.
    """
    Y = match_labels(AL, Y)
    return loss_for_output(output).cost(AL, Y)


def output_gradient(AL: Array, Y: Array, output: str) -> Array:
    """dCost/dZ of the output layer: ``(AL - Y) / m`` for a canonical activation/loss pair."""
    loss = loss_for_output(output)
    m = AL.shape[1]
    if loss.canonical_output == output:
        return into(AL - Y, operator.truediv, m)
    return get_activation(output).backward(loss.gradient(AL, Y) / m, AL)
