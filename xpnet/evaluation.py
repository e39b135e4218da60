"""Using a trained network: ``predict`` and ``accuracy``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .backend import default_int_dtype, is_host_data, namespace_of
from .losses import match_labels
from .network import forward_prop
from .parameters import check_network
from .validation import check_finite, check_labels, to_backend

Array = Any
CLASSIFICATION_OUTPUTS = ("sigmoid", "softmax")


def _like_params(data: Any, params: Mapping[str, Array], name: str) -> Array:
    # Host data (lists, NumPy) moves to the parameters' backend and dtype; another
    # library's array is left alone so the math can name the mismatch.
    W1 = params["W1"]
    return to_backend(data, namespace_of(W1=W1), W1.dtype, name) if is_host_data(data) else data


def _network_output(X: Any, params: Mapping[str, Array], hidden: str, output: str) -> Array:
    check_network(params)
    X = _like_params(X, params, "X")
    check_finite(X, "X")
    return forward_prop(X, params, hidden=hidden, output=output)[0]


def predict(X: Any, params: Mapping[str, Array], *, hidden: str = "sigmoid",
            output: str = "sigmoid", threshold: float = 0.5) -> Array:
    """Predictions for ``X`` (``(n_features, n_samples)``), on the parameters' backend.

    A sigmoid output gives 0/1 labels (``AL > threshold``, the default integer
    dtype) shaped like ``AL``; a softmax output the class index of each sample,
    shaped ``(1, n_samples)``; any other output its values ``AL`` (regression).
    Use the ``hidden``/``output`` the network was trained with.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
            or not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    AL = _network_output(X, params, hidden, output)
    xp = namespace_of(AL=AL)
    if output == "sigmoid":
        return xp.astype(AL > threshold, default_int_dtype(xp))
    if output == "softmax":
        return xp.argmax(AL, axis=0, keepdims=True)
    return AL


def correct_count(AL: Array, Y: Array, output: str) -> Array:
    """The number of correctly classified samples, as a 0-d array on the device.

    Softmax: the arg-max class matches; sigmoid: each output thresholded at 0.5
    matches ``Y`` (averaged over the outputs of a multi-label network).
    """
    xp = namespace_of(AL=AL, Y=Y)
    if output == "softmax":
        hits = xp.argmax(AL, axis=0) == xp.argmax(Y, axis=0)
        return xp.sum(xp.astype(hits, AL.dtype))
    hits = (AL > 0.5) == (Y > 0.5)
    return xp.sum(xp.astype(hits, AL.dtype)) / AL.shape[0]


def accuracy(X: Any, Y: Any, params: Mapping[str, Array], *, hidden: str = "sigmoid",
             output: str = "sigmoid") -> float:
    """Fraction of correct predictions; ``Y`` as in training (0/1 rows, or one-hot columns)."""
    if output not in CLASSIFICATION_OUTPUTS:
        raise ValueError(f"accuracy needs a sigmoid or softmax output, got output={output!r}; "
                         "for regression compare predict(...) with Y")
    AL = _network_output(X, params, hidden, output)
    if AL.shape[1] == 0:
        raise ValueError("X has 0 samples (columns); accuracy needs at least one")
    Y = match_labels(AL, _like_params(Y, params, "Y"))
    check_labels(Y, output)
    return float(correct_count(AL, Y, output)) / AL.shape[1]
