"""Host-side random numbers.

Random numbers are drawn on the host with NumPy's ``RandomState`` and then moved
to the backend, so one seed gives the same numbers on every backend (and the
tutorial's ``np.random.seed(3); np.random.randn(...)`` stream exactly), without
touching NumPy's global random state.
"""

from __future__ import annotations

import numbers

import numpy as np


def check_seed(seed: int | None) -> int | None:
    """``seed`` as a Python int in [0, 2**32), or None (fresh entropy)."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                             or not 0 <= seed < 2**32):
        raise ValueError(f"seed must be an int in [0, 2**32) or None, got {seed!r}")
    return None if seed is None else int(seed)


def host_rng(seed: int | None) -> np.random.RandomState:
    """A private ``RandomState`` for ``seed`` (``None``: fresh entropy from the OS)."""
    return np.random.RandomState(check_seed(seed))
