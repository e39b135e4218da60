"""Using a trained network: ``predict`` and ``accuracy``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .backend import asarray, is_host_data, namespace_of
from .network import forward_prop
from .parameters import n_layers
from .validation import check_finite

Array = Any


def _like_params(data: Any, params: Mapping[str, Array]) -> Array:
    # Host data (lists, NumPy) moves to the parameters' backend and dtype; another
    # library's array is left alone so the math can name the mismatch.
    W1 = params["W1"]
    return asarray(data, namespace_of(W1=W1), W1.dtype) if is_host_data(data) else data


def predict(X: Any, params: Mapping[str, Array], *, hidden: str = "sigmoid",
            output: str = "sigmoid", threshold: float = 0.5) -> Array:
    """Predictions for ``X`` (``(n_features, n_samples)``), on the parameters' backend.

    A sigmoid output gives 0/1 labels (``AL > threshold``, the default integer dtype) shaped like ``AL``;
    a softmax output the class index of each sample, shaped ``(1, n_samples)``; any
    other output its values ``AL`` (regression). Use the ``hidden``/``output`` the
    network was trained with.
    """
    n_layers(params)
    X = _like_params(X, params)
    check_finite(X, "X")
    AL, _ = forward_prop(X, params, hidden=hidden, output=output)
    xp = namespace_of(AL=AL)
    if output == "sigmoid":
        return xp.astype(AL > threshold, xp.__array_namespace_info__().default_dtypes()["integral"])
    if output == "softmax":
        return xp.argmax(AL, axis=0, keepdims=True)
    return AL


def accuracy(X: Any, Y: Any, params: Mapping[str, Array], *, hidden: str = "sigmoid",
             output: str = "sigmoid") -> float:
    """Fraction of correct predictions; ``Y`` as in training (0/1 rows, or one-hot columns)."""
    if output not in ("sigmoid", "softmax"):
        raise ValueError(f"accuracy needs a sigmoid or softmax output, got output={output!r}; "
                         "for regression compare predict(...) with Y")
    labels = predict(X, params, hidden=hidden, output=output)
    Y = _like_params(Y, params)
    xp = namespace_of(labels=labels, Y=Y)
    truth = xp.argmax(Y, axis=0, keepdims=True) if output == "softmax" else Y
    if truth.ndim == 1:
        truth = xp.reshape(truth, (1, truth.shape[0]))
    if truth.shape != labels.shape:
        raise ValueError(f"Y has shape {tuple(Y.shape)}, which does not match the network's "
                         f"predictions {tuple(labels.shape)}; pass Y as shaped for training")
    correct = xp.astype(labels == xp.astype(truth, labels.dtype), params["W1"].dtype)
    return float(xp.mean(correct))
