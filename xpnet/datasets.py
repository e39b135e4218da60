"""Small datasets generated on the host, in the tutorial's layout: ``X`` is
``(n_features, n_samples)``, ``Y`` is ``(1, n_samples)`` of 0/1 labels."""

from __future__ import annotations

import numpy as np

from .seeding import host_rng


def make_moons(n_samples: int = 400, *, noise: float = 0.2,
               seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half-circles in 2-D, a classic non-linear binary problem.

    Samples come in random order, half from each class; ``noise`` is the standard
    deviation of the Gaussian noise added to each coordinate.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 2:
        raise ValueError(f"n_samples must be an int >= 2, got {n_samples!r}")
    if not (isinstance(noise, (int, float)) and np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
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
