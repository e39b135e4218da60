"""Your own data from a file: ``read_table`` for CSV, ``.npz`` (``X``, ``y``) or a ``.npy`` pair.

Rows are samples (as in the files people have); the features come back as float64
``(n_samples, n_features)`` and the labels as they are written: ints, floats or strings.
A file that cannot be read raises :class:`~xpnet.errors.DataFileError` naming the file
(and, for CSV, the line).
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._common import DataFileError, check_path


@dataclass
class Table:
    """Features ``X`` ``(n_samples, n_features)`` float64, labels ``y`` ``(n_samples,)`` or
    None, and the names of the feature columns and of the target (None for arrays)."""

    X: np.ndarray
    y: np.ndarray | None
    features: list[str] | None
    target: str | None


def read_table(path: Any, target: Any = None, *, features: list[str] | None = None,
               need_target: bool = True) -> Table:
    """The data in ``path``: a CSV with a header row, an ``.npz`` of ``X`` (and ``y``), or a
    ``.npy`` of ``X`` with ``target`` the ``.npy`` of ``y``.

    For a CSV, ``target`` names the label column (None: the last one) and ``features``
    the feature columns (None: all the others); with ``need_target=False`` a CSV without
    the target column gives ``y=None``.
    """
    path = check_path(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory; give a data file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such data file")
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".npz":
        with _damage_named(path), np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files if name in ("X", "y")}
        if "X" not in arrays or (need_target and "y" not in arrays):
            raise DataFileError(f"{path}: an .npz data file holds the arrays 'X' and 'y'; "
                                f"it has {sorted(arrays)}")
        return Table(_features(arrays["X"], path), _labels(arrays.get("y"), path, arrays["X"]),
                     None, None)
    if suffix == ".npy":
        with _damage_named(path):
            X = np.load(path, allow_pickle=False)
        y = None
        if target is not None:
            with _damage_named(str(target)):
                y = np.load(check_path(target, "target"), allow_pickle=False)
        elif need_target:
            raise DataFileError(f"{path}: an .npy file holds only X; give the labels' .npy "
                                "as the target (--target y.npy)")
        return Table(_features(X, path), _labels(y, str(target), X), None, None)
    return _read_csv(path, target, features, need_target)


@contextlib.contextmanager
def _damage_named(path: str) -> Iterator[None]:
    """numpy's errors on a bad .npy/.npz as a DataFileError naming the file."""
    try:
        yield
    except (DataFileError, FileNotFoundError):
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise DataFileError(f"{path}: not a readable NumPy file without pickled objects "
                            f"({str(exc)[:200]})") from exc


def _features(X: np.ndarray, where: str) -> np.ndarray:
    if X.ndim != 2 or X.dtype.kind not in "biuf" or X.shape[0] == 0:
        raise DataFileError(f"{where}: X must be a 2-D array of numbers, one row per sample, "
                            f"got {X.dtype} of shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise DataFileError(f"{where}: X holds NaN or infinity; remove or impute those values")
    return X.astype(np.float64)


def _labels(y: np.ndarray | None, where: str, X: np.ndarray) -> np.ndarray | None:
    if y is None:
        return None
    if y.ndim != 1 or y.shape[0] != X.shape[0] or y.dtype.kind not in "biufU":
        raise DataFileError(f"{where}: y must be 1-D, one label per row of X ({X.shape[0]}), "
                            f"got {y.dtype} of shape {y.shape}")
    return y


def _read_csv(path: str, target: Any, features: list[str] | None,
              need_target: bool) -> Table:
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark, which is no part of
        # the first column's name.
        with open(path, newline="", encoding="utf-8-sig") as file:
            rows = [(reader.line_num, row) for reader in [csv.reader(file)] for row in reader
                    if row]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataFileError(f"{path}: not a readable CSV file ({exc})") from exc
    if len(rows) < 2:
        raise DataFileError(f"{path}: a CSV data file needs a header row and at least one "
                            "row of data")
    header = [name.strip() for name in rows[0][1]]
    # A first row of numbers, with no column named by the caller: most likely a sample.
    if target is None and features is None and all(_is_number(name) for name in header):
        raise DataFileError(f"{path}: the first row holds numbers ({', '.join(header[:4])}"
                            f"{', ...' if len(header) > 4 else ''}), not column names; a CSV "
                            "data file starts with a header row naming its columns (where "
                            "numbers do name them, name the target column: --target NAME)")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:  # a name must pick one column: the features and target are chosen by name
        raise DataFileError(f"{path}: the header row names the columns {repeated} more than "
                            "once; give each column its own name")
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise DataFileError(f"{path}, line {line}: {len(row)} fields, but the header row "
                                f"has {len(header)}")
    if target is None:
        target = header[-1] if features is None or header[-1] not in features else None
    if target is not None and target not in header:
        if need_target:
            raise DataFileError(f"{path}: no column {target!r}; its columns are {header}")
        target = None
    if features is None:
        features = [name for name in header if name != target]
    missing = [name for name in features if name not in header]
    if missing or not features:
        raise DataFileError(f"{path}: the feature columns {missing or features} are not in "
                            f"its header {header}")
    X = np.empty((len(rows) - 1, len(features)))
    for j, name in enumerate(features):
        column = header.index(name)
        for i, (line, row) in enumerate(rows[1:]):
            try:
                X[i, j] = float(row[column])
            except ValueError:
                raise DataFileError(f"{path}, line {line}: column {name!r} holds "
                                    f"{row[column][:40]!r}, not a number") from None
    if not np.all(np.isfinite(X)):
        line = rows[1 + int(np.argwhere(~np.isfinite(X))[0][0])][0]
        raise DataFileError(f"{path}, line {line}: NaN or infinity; remove or impute it")
    y = None if target is None else _label_column(
        path, target, [(line, row[header.index(target)]) for line, row in rows[1:]], need_target)
    return Table(X, y, features, target)


def _label_column(path: str, target: str, cells: list[tuple[int, str]],
                  need_target: bool) -> np.ndarray | None:
    """CSV labels as ints when they all are, else floats when they all are, else strings.
    A blank label is refused (it would become a class of its own) where the labels are
    needed; where they are not (predicting), a column with blanks gives None."""
    values = [value.strip() for _, value in cells]
    blank = next((line for (line, _), value in zip(cells, values) if not value), None)
    if blank is not None:
        if not need_target:
            return None
        raise DataFileError(f"{path}, line {blank}: the target column {target!r} is blank; "
                            "fill in the label or remove the row")
    for kind in (int, float):
        try:
            return np.asarray([kind(value) for value in values])
        except ValueError:
            continue
    return np.asarray(values)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
