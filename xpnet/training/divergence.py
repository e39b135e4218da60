"""How ``fit`` reports a run whose loss stopped being finite.

``fit`` watches every mini-batch's loss and reports a non-finite one itself
(:class:`~xpnet.errors.TrainingDivergedError`, naming the epoch and mini-batch), so
NumPy's overflow/invalid-value warnings from the same diverging steps would only
repeat that news, in a less useful form; they are silenced while epochs run. Other
backends do not warn.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence

import numpy as np


@contextlib.contextmanager
def numpy_float_warnings_silenced() -> Iterator[None]:
    """Silence NumPy's floating-point warnings inside the block (fit reports divergence)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        yield


def divergence_message(logs: Mapping[str, float], epoch: int, batch_losses: Sequence[float],
                       restored: bool = True) -> str:
    """What went wrong, where (the first mini-batch whose loss was not finite), what was
    kept, and what to try."""
    batch = next((i for i, value in enumerate(batch_losses) if not math.isfinite(value)), None)
    bad = ", ".join(f"{name}={value}" for name, value in logs.items()
                    if not math.isfinite(value)) or "the weights grew too large to compute with (or overflowed)"
    where = f"epoch {epoch}" if batch is None else f"epoch {epoch}, mini-batch {batch}"
    kept = ("The last weights with a finite loss are kept" if restored else
            "The weights are left as they were when it was found (restore_on_nan=False)")
    return (f"training diverged at {where}: {bad}. {kept} (error.params, with error.history); "
            "lower the learning rate (lr) or scale the input features")
