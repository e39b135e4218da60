"""The 8x8 handwritten digits shipped with xpnet (UCI "Optical Recognition of Handwritten Digits").

The data file and its provenance are in ``xpnet/datasets/data/`` (see the README there).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from importlib import resources

import numpy as np

from ._common import DataFileError
from .preprocessing import one_hot

DIGITS_FILE = "digits.csv.gz"
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
"""SHA-256 of ``data/digits.csv.gz``; also recorded in ``data/README.md``."""

_N_SAMPLES, _N_PIXELS, _N_CLASSES, _MAX_PIXEL = 1797, 64, 10, 16


def _read_packaged(name: str) -> bytes:
    return (resources.files(__package__) / "data" / name).read_bytes()


def _parse(raw: bytes, where: str) -> np.ndarray:
    try:
        text = gzip.decompress(raw).decode("ascii")
        table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise DataFileError(f"{where}: cannot be parsed ({exc})") from exc
    if table.shape != (_N_SAMPLES, _N_PIXELS + 1):
        raise DataFileError(f"{where}: expected {_N_SAMPLES} rows of {_N_PIXELS} pixels and a "
                            f"label, got a table of shape {table.shape}")
    return table


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 8x8 digit images: ``X`` ``(64, 1797)`` in ``[0, 1]``, one-hot ``Y`` ``(10, 1797)``.

    Pixels (counts 0..16 of a 4x4 block) are divided by 16; both arrays are
    float64 NumPy, samples in the file's order. Reshape a column with
    ``X[:, i].reshape(8, 8)`` to see the image. The file's SHA-256 is checked
    before it is read, so a damaged installation raises :class:`DataFileError`.
    """
    where = f"xpnet/datasets/data/{DIGITS_FILE}"
    raw = _read_packaged(DIGITS_FILE)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != DIGITS_SHA256:
        raise DataFileError(f"{where} is damaged: its SHA-256 is {digest}, expected "
                            f"{DIGITS_SHA256}; reinstall xpnet (pip install --force-reinstall xpnet)")
    table = _parse(raw, where)
    pixels, labels = table[:, :_N_PIXELS], table[:, _N_PIXELS]
    X = np.ascontiguousarray(pixels.T, dtype=np.float64) / _MAX_PIXEL
    return X, one_hot(labels, _N_CLASSES)
