"""What the dataset modules share: the path check and the error for damaged data files.

Numbers are checked with xpnet's own ``check_count`` and ``check_non_negative``.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import DataFileError  # noqa: F401  (re-exported for the dataset modules)


def check_path(path: Any, argument: str = "path") -> str:
    """``path`` (a ``str`` or ``os.PathLike``) as a ``str``."""
    if isinstance(path, (str, os.PathLike)):
        return os.fspath(path)
    raise TypeError(f"{argument} must be a file path (str or pathlib.Path), "
                    f"not {type(path).__name__}")
