"""A reader of the IDX format, in which MNIST is published.

An IDX file is: two zero bytes, a dtype code, the number of dimensions ``n``;
then ``n`` big-endian uint32 sizes; then the values, big-endian, in C order.
See http://yann.lecun.com/exdb/mnist/ ("THE IDX FILE FORMAT").
"""

from __future__ import annotations

import gzip
import math
import zlib
from typing import Any

import numpy as np

from ._common import DataFileError, check_path

IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX dtype codes and the big-endian NumPy dtypes they stand for."""

_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFileError(f"{path}: damaged gzip data ({exc}); download the file again") from exc


def read_idx(path: Any) -> np.ndarray:
    """The array stored in an IDX file (plain, or gzip-compressed as MNIST ships it).

    The result has the file's shape and its dtype in native byte order (MNIST
    images: ``uint8`` ``(n_images, 28, 28)``; labels: ``uint8`` ``(n_labels,)``).
    Raises :class:`DataFileError` naming the file when it is not IDX or is cut short.
    """
    path = check_path(path)
    raw = _read_bytes(path)
    if not raw or any(raw[:2]):  # the magic number starts with two zero bytes
        raise DataFileError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'none'}; "
                            "an IDX file starts with two zero bytes, a dtype code and the "
                            "number of dimensions)")
    if len(raw) < 4:
        raise DataFileError(f"{path}: truncated IDX header ({len(raw)} bytes)")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataFileError(f"{path}: unknown IDX dtype code 0x{code:02X} (known codes: {known})")
    if ndim == 0:
        raise DataFileError(f"{path}: the IDX header gives 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(f"{path}: truncated IDX header ({len(raw)} bytes; a {ndim}-D "
                            f"header needs {header})")
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    got = len(raw) - header
    if got < expected:
        raise DataFileError(f"{path}: truncated IDX data: shape {shape} of {dtype.name} needs "
                            f"{expected} bytes after the header, the file has {got}; "
                            "download it again")
    if got > expected:
        raise DataFileError(f"{path}: {got - expected} unexpected bytes after the IDX data "
                            f"of shape {shape}")
    values = np.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=header)
    # astype copies into native byte order, so the result is writable and fast.
    return values.astype(dtype.newbyteorder("=")).reshape(shape)
