"""Toy problems generated on the host, in the tutorial's layout.

``X`` is ``(n_features, n_samples)``. Binary problems give ``Y`` ``(1, n_samples)``
of 0/1 labels; multi-class problems give one-hot ``Y`` ``(n_classes, n_samples)``.
Samples come in random order; ``seed`` makes them repeatable without touching
NumPy's global random state.
"""

from __future__ import annotations

import numpy as np

from ..seeding import host_rng
from ..validation import check_count, check_non_negative
from .preprocessing import one_hot


def make_moons(n_samples: int = 400, *, noise: float = 0.2,
               seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half-circles in 2-D, a classic non-linear binary problem.

    Samples come in random order, half from each class; ``noise`` is the standard
    deviation of the Gaussian noise added to each coordinate.
    """
    n_samples = check_count(n_samples, "n_samples", 2)
    noise = check_non_negative(noise, "noise")
    rng = host_rng(seed)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    t_outer = np.linspace(0, np.pi, n_outer)
    t_inner = np.linspace(0, np.pi, n_inner)
    X = np.concatenate([
        np.stack([np.cos(t_outer), np.sin(t_outer)]),
        np.stack([1 - np.cos(t_inner), 0.5 - np.sin(t_inner)]),
    ], axis=1)
    Y = np.concatenate([np.zeros(n_outer), np.ones(n_inner)])[np.newaxis, :]
    X += rng.normal(scale=noise, size=X.shape) if noise else 0.0
    order = rng.permutation(n_samples)
    return X[:, order], Y[:, order]


def _class_sizes(n_samples: int, n_classes: int) -> np.ndarray:
    """Sizes as equal as possible; the first ``n_samples % n_classes`` classes get one more."""
    sizes = np.full(n_classes, n_samples // n_classes)
    sizes[: n_samples % n_classes] += 1
    return sizes


def make_spirals(n_samples: int = 300, n_classes: int = 3, *, noise: float = 0.2,
                 seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms in 2-D, one per class (the CS231n "spiral" problem).

    Arm ``k`` starts at the origin at angle ``2*pi*k/n_classes`` and turns through
    4 radians while its radius grows to 1. ``noise`` is the standard deviation of
    the Gaussian noise added to each point's angle, in radians. Returns ``X``
    ``(2, n_samples)`` and one-hot ``Y`` ``(n_classes, n_samples)``.
    """
    n_classes = check_count(n_classes, "n_classes", 2)
    n_samples = check_count(n_samples, "n_samples", n_classes)
    noise = check_non_negative(noise, "noise")
    rng = host_rng(seed)
    sizes = _class_sizes(n_samples, n_classes)
    labels = np.repeat(np.arange(n_classes), sizes)
    radius = np.concatenate([np.linspace(0.0, 1.0, size) for size in sizes])
    angle = np.concatenate([np.linspace(0.0, 4.0, size) for size in sizes])
    angle += 2 * np.pi * labels / n_classes + rng.normal(scale=noise, size=n_samples)
    X = np.stack([radius * np.sin(angle), radius * np.cos(angle)])
    order = rng.permutation(n_samples)
    return X[:, order], one_hot(labels[order], n_classes)


def make_blobs(n_samples: int = 300, n_classes: int = 3, n_features: int = 2, *,
               spread: float = 1.0, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters, one per class, in ``n_features`` dimensions.

    Each class's centre is drawn uniformly from ``[-10, 10]`` in every feature;
    its points scatter around it with standard deviation ``spread``. Returns ``X``
    ``(n_features, n_samples)`` and one-hot ``Y`` ``(n_classes, n_samples)``.
    """
    n_classes = check_count(n_classes, "n_classes", 2)
    n_samples = check_count(n_samples, "n_samples", n_classes)
    n_features = check_count(n_features, "n_features", 1)
    spread = check_non_negative(spread, "spread")
    rng = host_rng(seed)
    centres = rng.uniform(-10.0, 10.0, size=(n_features, n_classes))
    labels = np.repeat(np.arange(n_classes), _class_sizes(n_samples, n_classes))
    X = centres[:, labels] + rng.normal(scale=spread, size=(n_features, n_samples))
    order = rng.permutation(n_samples)
    return X[:, order], one_hot(labels[order], n_classes)
