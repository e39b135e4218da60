"""Turning labels and data into training input: ``one_hot``, ``train_test_split`` and
``stratified_split``."""

from __future__ import annotations

import numbers
from typing import Any

import array_api_compat
import numpy as np

from ..backend import namespace_of, to_numpy
from ..seeding import host_rng
from ..validation import check_count

Array = Any


def _label_vector(labels: Any) -> np.ndarray:
    """``labels`` as a 1-D int64 NumPy array of class indices (checked)."""
    host = to_numpy(labels)
    if host.ndim == 2 and host.shape[0] == 1:
        host = host[0]
    if host.ndim != 1:
        raise ValueError(f"labels must be a 1-D sequence of class indices (or shaped (1, n_samples)), "
                         f"got shape {host.shape}; to turn one-hot Y back into labels use "
                         "Y.argmax(axis=0)")
    if host.dtype == np.bool_ or not (np.issubdtype(host.dtype, np.integer)
                                      or np.issubdtype(host.dtype, np.floating)):
        raise TypeError(f"labels must be integer class indices, not {host.dtype} values; "
                        "convert them with labels.astype(int)")
    if np.issubdtype(host.dtype, np.floating):
        bad = ~np.isfinite(host) | (host != np.round(host))
        if bad.any():
            raise ValueError(f"labels must be whole numbers (class indices), got "
                             f"{float(host[bad][0])!r} at position {int(np.argmax(bad))}")
    if host.size and host.min() < 0:
        raise ValueError(f"labels must be class indices >= 0, got {int(host.min())} "
                         f"at position {int(np.argmin(host))}")
    return host.astype(np.int64)


def one_hot(labels: Any, n_classes: int | None = None) -> np.ndarray:
    """Class indices ``(m,)`` (or ``(1, m)``) as one-hot columns ``(n_classes, m)`` of float64.

    ``n_classes=None`` means ``max(labels) + 1``. The result is a NumPy array;
    move it to a backend with ``xpnet.asarray``.
    """
    indices = _label_vector(labels)
    if n_classes is None:
        if indices.size == 0:
            raise ValueError("labels is empty, so the number of classes is unknown; "
                             "pass n_classes")
        n_classes = int(indices.max()) + 1
    else:
        n_classes = check_count(n_classes, "n_classes", 1)
        if indices.size and indices.max() >= n_classes:
            raise ValueError(f"labels contain class {int(indices.max())} but n_classes is "
                             f"{n_classes}; classes must be 0 .. n_classes-1 (pass "
                             "n_classes=None to count them from the labels)")
    encoded = np.zeros((n_classes, indices.size), dtype=np.float64)
    encoded[indices, np.arange(indices.size)] = 1.0
    return encoded


def _take_columns(xp: Any, A: Array, columns: np.ndarray) -> Array:
    return xp.take(A, xp.asarray(columns, device=array_api_compat.device(A)), axis=1)


def train_test_split(X: Any, Y: Any, test_fraction: float = 0.2, *,
                     seed: int | None = 0) -> tuple[Array, Array, Array, Array]:
    """Split the columns (samples) of ``X`` and ``Y`` at random into training and test parts.

    Returns ``(X_train, Y_train, X_test, Y_test)``. ``X`` is ``(n_features, m)`` and
    ``Y`` ``(n_outputs, m)``; ``round(test_fraction * m)`` columns go to the test
    part, the rest to the training part, each in random order. Arrays stay on
    their backend; lists become NumPy arrays.

    Against scikit-learn's ``train_test_split(..., test_size=test_fraction,
    random_state=seed)`` on the samples: the same permutation, so the same test and
    training samples in the same order whenever ``test_fraction * m`` is whole or rounds
    up; where it rounds down, scikit-learn (which takes the ceiling) holds out one
    sample more, the first of xpnet's training part.
    """
    X = X if array_api_compat.is_array_api_obj(X) else np.asarray(X)
    Y = Y if array_api_compat.is_array_api_obj(Y) else np.asarray(Y)
    xp = namespace_of(X=X, Y=Y)
    for name, A in (("X", X), ("Y", Y)):
        if A.ndim != 2:
            raise ValueError(f"{name} must be 2-D, shaped (n_rows, n_samples), got shape "
                             f"{tuple(A.shape)}; make a label vector y a row with y.reshape(1, -1)")
    m = X.shape[1]
    if Y.shape[1] != m:
        raise ValueError(f"X has {m} columns (samples) but Y has {Y.shape[1]}; both must be "
                         "shaped (n_rows, n_samples), one column per sample")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real):
        raise TypeError(f"test_fraction must be a number, not {type(test_fraction).__name__}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction!r}")
    n_test = round(test_fraction * m)
    if not 0 < n_test < m:
        raise ValueError(f"test_fraction={test_fraction!r} of {m} samples gives {n_test} test "
                         f"and {m - n_test} training samples; each part needs at least one "
                         "(change test_fraction or use more samples)")
    order = host_rng(seed).permutation(m)
    test, train = order[:n_test], order[n_test:]
    return (_take_columns(xp, X, train), _take_columns(xp, Y, train),
            _take_columns(xp, X, test), _take_columns(xp, Y, test))


def stratified_split(indices: np.ndarray, fraction: float, seed: int | None = 0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(train, held_out)`` sample positions (sorted): about ``fraction`` of each class of
    ``indices`` (class indices, 1-D) held out at random, at least one of every class that
    has two or more samples."""
    rng = host_rng(seed)
    held = []
    for label in np.unique(indices):
        members = rng.permutation(np.flatnonzero(indices == label))
        take = min(len(members) - 1, max(1, round(fraction * len(members))))
        held.append(members[:take])
    held_out = np.sort(np.concatenate(held))
    return np.setdiff1d(np.arange(len(indices)), held_out), held_out
