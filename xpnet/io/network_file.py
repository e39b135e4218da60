"""The network format: a model file holding a network's parameters ``W1, b1, ..., WL, bL``.

On top of the container (:mod:`xpnet.io.container`), the header says the model's
``kind`` (``"params"`` for :func:`save_params`, an estimator's class name for
``est.save``), its ``layer_dims``, the parameters' ``dtype`` and the caller's plain-data
``metadata``; on reading, the arrays are checked against it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..backend import Backend, asarray, dtype_name, get_backend, namespace_of, resolve_backend
from ..parameters import layer_dims_of, parameter_keys
from .container import bad_file, check_plain, header_field, read_model, short, write_model

PARAMS_KIND = "params"
PARAM_DTYPES = ("float32", "float64")

_PARAM_KEY = re.compile(r"[Wb][0-9]+")

Array = Any


def save_params(path: str | os.PathLike, params: Mapping[str, Array], /, **metadata: Any) -> Path:
    """Save ``params`` (``W1, b1, ..., WL, bL`` on any backend) and ``metadata`` to one file.

    ``metadata`` values must be JSON plain data: None, bool, int, finite float, str,
    and lists/tuples/dicts (str keys) of those; tuples come back as lists.
    Returns the path written.
    """
    return write_network(path, params, PARAMS_KIND, metadata)


def write_network(path: str | os.PathLike, params: Mapping[str, Array], kind: str,
                  metadata: Mapping[str, Any]) -> Path:
    """Save a network's ``params`` as a model of ``kind`` (``"params"``, an estimator's class
    name) with plain-data ``metadata``; what :func:`save_params` and ``est.save`` write."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays (W1, b1, ...), not {type(params).__name__}")
    namespace_of(**{str(key): a for key, a in params.items()})
    layer_dims = layer_dims_of(params)
    dtypes = {key: dtype_name(params[key].dtype) for key in parameter_keys(params)}
    if len(set(dtypes.values())) != 1 or dtypes["W1"] not in PARAM_DTYPES:
        raise ValueError(f"params must all be float32 or all float64; got {dtypes}; "
                         "convert them with xpnet.asarray(a, dtype=...)")
    check_plain(dict(metadata), "metadata")
    header = {"kind": kind, "layer_dims": layer_dims, "dtype": dtypes["W1"],
              "metadata": dict(metadata)}
    return write_model(path, dict(params), header)


def load_params(path: str | os.PathLike,
                backend: Backend | None = None) -> tuple[dict[str, Array], dict[str, Any]]:
    """The ``(params, metadata)`` saved by :func:`save_params`.

    The arrays are put on ``backend`` (``None``: the selected backend,
    :func:`xpnet.get_backend`) with the dtype they were saved in. Raises
    ``FileNotFoundError`` for a missing file and :class:`ModelFileError` for one
    that is damaged, foreign, too new or does not hold a valid network.
    """
    xp = get_backend() if backend is None else resolve_backend(backend)
    params, _, metadata = read_network(path, (PARAMS_KIND,))
    return {key: asarray(value, backend=xp) for key, value in params.items()}, metadata


def read_network(path: str | os.PathLike,
                 kinds: tuple[str, ...]) -> tuple[dict[str, np.ndarray], str, dict[str, Any]]:
    """The NumPy ``params``, kind and metadata of a file written by :func:`write_network`,
    checked to hold a valid network of one of ``kinds``."""
    arrays, header = read_model(path)
    params = _checked_params(arrays, header, Path(path), kinds)
    return {key: params[key] for key in parameter_keys(params)}, header["kind"], header["metadata"]


def _checked_params(arrays: Mapping[str, np.ndarray], header: Mapping[str, Any],
                    where: Path, kinds: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The ``W1, b1, ...`` arrays, checked against the header written by write_network.

    Arrays under other names (written with :func:`write_model`) are ignored.
    """
    kind = header.get("kind")
    if kind not in kinds:
        raise bad_file(f"{where} holds a {short(kind)} model, not "
                       f"{' or '.join(map(repr, kinds))}",
                       "xpnet.load_params reads the files of save_params ('params'), "
                       "xpnet.load those of an estimator's save, read_model any xpnet file")
    layer_dims = header_field(header, "layer_dims", list, where)
    dtype = header_field(header, "dtype", str, where)
    header_field(header, "metadata", dict, where)
    if len(layer_dims) < 2 or not all(type(n) is int and n >= 1 for n in layer_dims):
        raise bad_file(f"{where}: the header's layer_dims must be at least 2 positive "
                       f"ints, got {short(layer_dims)}")
    if dtype not in PARAM_DTYPES:
        raise bad_file(f"{where}: the header's dtype must be one of {PARAM_DTYPES}, "
                       f"got {short(dtype)}")
    params = {key: a for key, a in arrays.items() if _PARAM_KEY.fullmatch(key)}
    try:
        found = layer_dims_of(params)
    except (ValueError, TypeError) as exc:
        raise bad_file(f"{where}: its arrays do not form a network: {str(exc)[:300]}") from exc
    if found != layer_dims:
        raise bad_file(f"{where}: its arrays have layer_dims {short(found)} but the header "
                       f"says {short(layer_dims)}")
    wrong = {key: str(a.dtype) for key, a in params.items() if a.dtype != np.dtype(dtype)}
    if wrong:
        raise bad_file(f"{where}: the header says dtype {dtype} but the arrays are "
                       f"{short(wrong)}")
    return params
