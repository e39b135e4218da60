"""Loss functions: the mean cost over the samples, and its gradient with respect to ``AL``.

Each cost also takes per-sample ``weights`` (a ``(1, m)`` row summing to 1): the mean
becomes the weighted mean, the samples' losses summed with those weights.

Which loss goes with which output activation is decided in one place, the output
table (:data:`xpnet.outputs.OUTPUTS`); this module only knows how to compute each loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .backend import array_namespace, namespace_of
from .memo import Answers, remembered
from .step_ops import float_limits, scalar, total

Array = Any


def _clipped(P: Array, upper_gap: bool) -> Array:
    # Probabilities kept inside [eps, 1 - eps] (scikit-learn's choice) so log() stays finite.
    xp = array_namespace(P)
    eps = float_limits(xp, P.dtype)[0]
    # maximum/minimum rather than clip: array-api-compat's clip is several times slower on NumPy.
    return xp.minimum(xp.maximum(P, scalar(P, eps)), scalar(P, 1 - eps if upper_gap else 1.0))


def _sample_mean(terms: Array, weights: Array | None) -> Array:
    """The samples' (columns') mean of ``terms`` summed over rows; with ``weights`` (a
    ``(1, m)`` row summing to 1), their weighted sum."""
    if weights is None:
        return total(terms) / terms.shape[1]
    return total(terms * weights)


def _binary_cross_entropy(AL: Array, Y: Array, weights: Array | None = None) -> Array:
    xp = array_namespace(AL, Y)
    P = _clipped(AL, upper_gap=True)
    return -_sample_mean(Y * xp.log(P) + (1 - Y) * xp.log1p(-P), weights)


def _categorical_cross_entropy(AL: Array, Y: Array, weights: Array | None = None) -> Array:
    xp = array_namespace(AL, Y)
    return -_sample_mean(Y * xp.log(_clipped(AL, upper_gap=False)), weights)


def _squared_error(AL: Array, Y: Array, weights: Array | None = None) -> Array:
    D = AL - Y
    return _sample_mean(D * D, weights) / 2


def _squared_error_gradient(AL: Array, Y: Array) -> Array:
    return AL - Y


@dataclass(frozen=True)
class Loss:
    """A cost (a mean over the samples, as a 0-d array; ``cost(AL, Y, weights)`` the
    weighted mean) and, where some output pairs it with an activation other than its
    canonical one, its per-sample gradient dCost/dAL."""

    name: str
    cost: Callable[..., Array]
    gradient: Callable[[Array, Array], Array] | None = None


# The cross-entropies only ever meet their canonical output (the output table pairs
# them with nothing else), so they need no gradient with respect to AL.
BINARY_CROSS_ENTROPY = Loss("binary_cross_entropy", _binary_cross_entropy)
CATEGORICAL_CROSS_ENTROPY = Loss("categorical_cross_entropy", _categorical_cross_entropy)
SQUARED_ERROR = Loss("squared_error", _squared_error, _squared_error_gradient)


def one_hot_hint(Y_shape: tuple[int, ...], n_outputs: int, name: str = "Y") -> str:
    """The fix for class labels (1-D, or one row) given where ``n_outputs`` rows of one-hot
    columns are expected (the tutorial's softmax output), as the end of an error message; else ''."""
    if not (len(Y_shape) == 1 or (len(Y_shape) == 2 and Y_shape[0] == 1)) or n_outputs < 2:
        return ""
    return (f"; if {name} holds class indices (0 to {n_outputs - 1}), make one-hot columns "
            f"of them: {name} = xpnet.datasets.one_hot({name}, {n_outputs})")


def match_labels(AL: Array, Y: Array) -> Array:
    """``Y`` shaped and typed like ``AL``; a 1-D ``Y`` of length m fits a ``(1, m)`` ``AL``."""
    try:
        layout = (type(AL), AL.shape, AL.dtype, type(Y), Y.shape, Y.dtype)
    except AttributeError:  # not arrays: the checks say so
        layout = None
    xp, reshape, cast = remembered(_LABELS_CHECKED, layout, _check_labels, AL, Y)
    if reshape:
        Y = xp.reshape(Y, AL.shape)
    return xp.astype(Y, AL.dtype) if cast else Y


# The label checks read the types, shapes and dtypes of AL and Y, nothing else.
_LABELS_CHECKED: Answers = Answers()  # layout -> (namespace, reshape?, cast?)


def _check_labels(AL: Array, Y: Array) -> tuple[ModuleType, bool, bool]:
    """The namespace of ``AL`` and ``Y``, and whether ``Y`` needs a reshape and a cast to fit."""
    xp = namespace_of(AL=AL, Y=Y)
    if not xp.isdtype(AL.dtype, "real floating"):
        raise TypeError(f"AL has dtype {AL.dtype}; it must be the real floating output of forward_prop")
    if not xp.isdtype(Y.dtype, ("bool", "integral", "real floating")):
        raise TypeError(f"Y has dtype {Y.dtype}; Y must hold real numbers: convert it, e.g. "
                        "xpnet.asarray(Y, dtype='float64')")
    if AL.ndim != 2:
        raise ValueError(f"AL must be 2-D, shaped (n_outputs, n_samples); got shape {tuple(AL.shape)}")
    if AL.shape[1] == 0:
        raise ValueError("AL has 0 samples (columns); the cost and its gradients are means over "
                         "the samples and need at least one")
    reshape = Y.ndim == 1 and AL.shape[0] == 1 and Y.shape[0] == AL.shape[1]
    shape = tuple(AL.shape) if reshape else tuple(Y.shape)
    if shape != tuple(AL.shape):
        raise ValueError(f"Y has shape {tuple(Y.shape)} but AL has shape {tuple(AL.shape)}; Y must be "
                         "shaped (n_outputs, n_samples) like AL (one-hot columns for a softmax output)"
                         + one_hot_hint(tuple(Y.shape), AL.shape[0]))
    return xp, reshape, Y.dtype != AL.dtype
