"""Using a trained network: ``predict`` and ``accuracy``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .backend import is_host_data, namespace_of
from .losses import match_labels
from .network import forward_prop
from .outputs import OUTPUTS, get_output
from .parameters import check_network
from .validation import check_finite, to_backend

Array = Any


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
    kind = get_output(output)
    return kind.predict(_network_output(X, params, hidden, output), threshold)


def accuracy(X: Any, Y: Any, params: Mapping[str, Array], *, hidden: str = "sigmoid",
             output: str = "sigmoid") -> float:
    """Fraction of correct predictions; ``Y`` as in training (0/1 rows, or one-hot columns)."""
    kind = get_output(output)
    if not kind.classifier:
        classifiers = " or ".join(name for name, entry in OUTPUTS.items() if entry.classifier)
        raise ValueError(f"accuracy needs a {classifiers} output, got output={output!r}; "
                         "for regression compare predict(...) with Y")
    AL = _network_output(X, params, hidden, output)
    if AL.shape[1] == 0:
        raise ValueError("X has 0 samples (columns); accuracy needs at least one")
    Y = match_labels(AL, _like_params(Y, params, "Y"))
    kind.check_targets(Y, "Y")
    return float(kind.correct_count(AL, Y)) / AL.shape[1]
