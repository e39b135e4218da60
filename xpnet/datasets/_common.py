"""What the dataset modules share: argument checks and the error for damaged data files."""

from __future__ import annotations

import math
import numbers
import os
from typing import Any

from ..errors import DataFileError  # noqa: F401  (re-exported for the dataset modules)


def check_int(value: Any, argument: str, minimum: int) -> int:
    """``value`` as an int ``>= minimum`` (bools are refused: ``True`` is no sample count)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{argument} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{argument} must be an int >= {minimum}, got {value}")
    return int(value)


def check_nonnegative(value: Any, argument: str) -> float:
    """``value`` as a finite Python float ``>= 0``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{argument} must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{argument} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_path(path: Any, argument: str = "path") -> str:
    """``path`` (a ``str`` or ``os.PathLike``) as a ``str``."""
    if isinstance(path, (str, os.PathLike)):
        return os.fspath(path)
    raise TypeError(f"{argument} must be a file path (str or pathlib.Path), "
                    f"not {type(path).__name__}")
