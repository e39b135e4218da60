"""Floating-point error reporting in the training loop.

``fit`` watches every mini-batch's loss and reports a non-finite one itself
(:class:`~xpnet.errors.TrainingDivergedError`, naming the epoch and mini-batch), so
NumPy's overflow/invalid-value warnings from the same diverging steps would only
repeat that news, in a less useful form. Other backends do not warn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np


@contextlib.contextmanager
def divergence_reported_by_fit() -> Iterator[None]:
    """Silence NumPy's floating-point warnings while the training loop runs."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        yield
