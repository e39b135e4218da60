"""The network format: a model file holding a network's parameters ``W1, b1, ..., WL, bL``.

On top of the container (:mod:`xpnet.io.container`), the header says the model's
``kind`` (``"params"`` for :func:`save_params`, an estimator's class name for
``est.save``), its ``layer_dims``, the parameters' ``dtype`` and the caller's plain-data
``metadata``; on reading, the arrays are checked against it. Since format 2 a params
file also describes its model (``"model"``: hidden and output activations, class
labels, input preprocessing), so that it predicts with what it was trained with.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from ..backend import Backend, dtype_name, get_backend, namespace_of, resolve_backend
from ..parameters import DESCRIPTION_KEYS, ModelParams, layer_dims_of, parameter_keys
from .container import (Expect, bad_file, check_plain, header_field, read_model,
                        saved_arrays_on, short, write_model)

PARAMS_KIND = "params"
PARAM_DTYPES = ("float32", "float64")

_PARAM_KEY = re.compile(r"[Wb][0-9]+")

Array = Any


def save_params(path: str | os.PathLike, params: Mapping[str, Array], /, *,
                hidden: str | None = None, output: str | None = None,
                classes: list | None = None, preprocessing: Mapping[str, Any] | None = None,
                **metadata: Any) -> Path:
    """Save ``params`` (``W1, b1, ..., WL, bL`` on any backend), the model's description
    and ``metadata`` to one file.

    ``hidden``/``output``: the activations the network was trained with (None: not
    recorded; a :class:`ModelParams` from :func:`load_params` gives its own);
    ``classes``: a classifier's class labels (str or numbers, one per class, in the order
    of its outputs); ``preprocessing``: ``{"standardize": {"mean": [...], "scale": [...]}}``,
    applied to ``X`` before the network (one value per feature). ``metadata`` values must
    be JSON plain data: None, bool, int, finite float, str, and lists/tuples/dicts (str
    keys) of those; tuples come back as lists. Returns the path written.
    """
    given = {"hidden": hidden, "output": output, "classes": classes,
             "preprocessing": preprocessing}
    stored = getattr(params, "description", {})
    description = {key: stored.get(key) if value is None else value
                   for key, value in given.items()}
    return write_network(path, params, PARAMS_KIND, metadata, description)


def write_network(path: str | os.PathLike, params: Mapping[str, Array], kind: str,
                  metadata: Mapping[str, Any], description: Mapping[str, Any] | None = None
                  ) -> Path:
    """Save a network's ``params`` as a model of ``kind`` (``"params"``, an estimator's class
    name) with plain-data ``metadata`` (and a params file's ``description``); what
    :func:`save_params` and ``est.save`` write."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays (W1, b1, ...), not {type(params).__name__}")
    xp = namespace_of(**{str(key): a for key, a in params.items()})
    layer_dims = layer_dims_of(params)
    dtypes = {key: dtype_name(params[key].dtype) for key in parameter_keys(params)}
    if len(set(dtypes.values())) != 1 or dtypes["W1"] not in PARAM_DTYPES:
        raise ValueError(f"params must all be float32 or all float64; got {dtypes}; "
                         "convert them with xpnet.asarray(a, dtype=...)")
    not_finite = [key for key in parameter_keys(params)
                  if not bool(xp.all(xp.isfinite(params[key])))]
    if not_finite:  # it would predict one class for everything, without a word
        raise ValueError(f"params {', '.join(not_finite)} hold NaN or infinity (a training "
                         "that diverged?); a model file keeps finite weights only: train again "
                         "(a smaller lr) or save a copy taken before the divergence")
    check_plain(dict(metadata), "metadata")
    header = {"kind": kind, "layer_dims": layer_dims, "dtype": dtypes["W1"],
              "metadata": dict(metadata)}
    if description is not None:
        header["model"] = check_description(description, layer_dims, ValueError)
    return write_model(path, dict(params), header)


def check_description(description: Mapping[str, Any], layer_dims: list[int],
                      refuse: Any = ValueError) -> dict[str, Any]:
    """``description`` (:data:`DESCRIPTION_KEYS`) as plain data, checked against the
    network of ``layer_dims``; a problem raises ``refuse(message)``."""
    check_plain(dict(description), "the model description")
    found = {key: description.get(key) for key in DESCRIPTION_KEYS}
    for key in ("hidden", "output"):
        name = found[key]
        valid = sorted(ACTIVATIONS) if key == "output" else HIDDEN_ACTIVATIONS
        if name is not None and (not isinstance(name, str) or name not in valid):
            raise refuse(f"{key}={short(name)} is not an activation a {key} layer can use; "
                         f"valid names are: {', '.join(valid)}")
    n_out, classes = layer_dims[-1], found["classes"]
    if found["output"] == "softmax" and n_out == 1:  # its one unit is 1 for every sample
        raise refuse("output='softmax' needs at least two output units (one per class); a "
                     "network of one output unit classifies two classes with output='sigmoid'")
    if classes is not None:
        if not isinstance(classes, (list, tuple)) or len(classes) < 2 or \
                len(classes) != (2 if n_out == 1 else n_out) or \
                any(isinstance(c, bool) or not isinstance(c, (str, int, float)) for c in classes) \
                or len(set(classes)) != len(classes):
            raise refuse(f"classes must be distinct str or number labels, one per output unit "
                         f"(two for a single unit); the network has {n_out} output unit(s), "
                         f"got classes={short(classes)}")
        found["classes"] = list(classes)
    if found["preprocessing"] is not None:
        found["preprocessing"] = _checked_preprocessing(found["preprocessing"], layer_dims[0],
                                                        refuse)
    return found


def _checked_preprocessing(preprocessing: Any, n_features: int, refuse: Any) -> dict[str, Any]:
    standardize = preprocessing.get("standardize") if isinstance(preprocessing, dict) else None
    if not isinstance(standardize, dict) or set(preprocessing) != {"standardize"} or \
            set(standardize) != {"mean", "scale"}:
        raise refuse('preprocessing must be {"standardize": {"mean": [...], "scale": [...]}}, '
                     f"got {short(preprocessing)}")
    for name in ("mean", "scale"):
        values = standardize[name]
        if not isinstance(values, (list, tuple)) or len(values) != n_features or any(
                isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                or (name == "scale" and v <= 0) for v in values):
            raise refuse(f"preprocessing's standardize {name} must be {n_features} finite "
                         f"numbers{' > 0' if name == 'scale' else ''} (one per feature), "
                         f"got {short(values)}")
    return {"standardize": {name: [float(v) for v in standardize[name]]
                            for name in ("mean", "scale")}}


def load_params(path: str | os.PathLike,
                backend: Backend | None = None) -> tuple[dict[str, Array], dict[str, Any]]:
    """The ``(params, metadata)`` saved by :func:`save_params`.

    The arrays are put on ``backend`` (``None``: the selected backend,
    :func:`xpnet.get_backend`) with the dtype they were saved in. Raises
    ``FileNotFoundError`` for a missing file and :class:`ModelFileError` for one
    that is damaged, foreign, too new or does not hold a valid network.
    """
    xp = get_backend() if backend is None else resolve_backend(backend)
    arrays, header = read_model(path, expect_network(path, (PARAMS_KIND,)))
    params, metadata = network_of(arrays, header, Path(path), (PARAMS_KIND,))
    description = description_of(header, Path(path))
    return ModelParams(saved_arrays_on(xp, params, Path(path)), description), metadata


def description_of(header: Mapping[str, Any], where: Path) -> dict[str, Any]:
    """What a params file's header says about its model (checked), or, for a file of format
    1, the activations its metadata names (``xpnet train --save`` recorded them), with a
    warning that the file does not describe its model."""
    def refuse(problem: str) -> Exception:
        return bad_file(f"{where}: its model description is invalid: {problem}")

    if header["format_version"] >= 2:
        described = header_field(header, "model", dict, where)
        return check_description(described, header["layer_dims"], refuse)
    metadata = header["metadata"]
    found = {key: metadata.get(key) for key in ("hidden", "output")
             if isinstance(metadata.get(key), str) and metadata.get(key) in ACTIVATIONS}
    using = (f"using the {' and '.join(f'{k}={v!r}' for k, v in found.items())} its metadata "
             "names" if found else "predict and accuracy assume hidden='sigmoid', "
             "output='sigmoid' unless told otherwise")
    warnings.warn(f"{where} was written by an older xpnet (format 1) and does not record "
                  f"the activations it was trained with; {using}. Save it again to record them",
                  UserWarning, stacklevel=3)
    return check_description(found, header["layer_dims"], refuse)


def read_network(path: str | os.PathLike,
                 kinds: tuple[str, ...]) -> tuple[dict[str, np.ndarray], str, dict[str, Any]]:
    """The NumPy ``params``, kind and metadata of a file written by :func:`write_network`,
    checked to hold a valid network of one of ``kinds``."""
    arrays, header = read_model(path, expect_network(path, kinds))
    params, metadata = network_of(arrays, header, Path(path), kinds)
    return params, header["kind"], metadata


def expect_network(where: str | os.PathLike, kinds: tuple[str, ...]) -> Expect:
    """What a network file of one of ``kinds`` at ``where`` must declare, for
    :func:`~xpnet.io.container.read_model`: ``W1, b1, ..., WL, bL`` of the header's
    ``layer_dims`` and ``dtype``, checked before any is read; only they are read (other
    arrays are ignored), so reading costs the memory of the declared network."""
    def expect(header: dict[str, Any], declared: dict[str, np.ndarray]) -> list[str]:
        return parameter_keys(_checked_params(declared, header, Path(where), kinds))
    return expect


def network_of(arrays: Mapping[str, np.ndarray], header: Mapping[str, Any], where: Path,
               kinds: tuple[str, ...]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The NumPy ``params`` and metadata of a file read with :func:`read_model`, checked to
    hold a valid network of one of ``kinds``."""
    params = _checked_params(arrays, header, where, kinds)
    for key in parameter_keys(params):
        if not np.all(np.isfinite(params[key])):  # no save writes one
            raise bad_file(f"{where}: its array {key!r} holds NaN or infinity: a network "
                           "that cannot predict (a diverged training, which older versions of "
                           "xpnet saved) or a damaged file",
                           "train the network again (a smaller lr), or restore a backup")
    return {key: params[key] for key in parameter_keys(params)}, header["metadata"]


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
                       f"says {short(layer_dims)}{_first_misshapen(params, layer_dims)}")
    wrong = {key: str(a.dtype) for key, a in params.items() if a.dtype != np.dtype(dtype)}
    if wrong:
        raise bad_file(f"{where}: the header says dtype {dtype} but the arrays are "
                       f"{short(wrong)}")
    return params


def _first_misshapen(params: Mapping[str, Any], layer_dims: list[int]) -> str:
    """Which array first differs from the shapes the header's ``layer_dims`` make."""
    for l in range(1, len(layer_dims)):
        for key, shape in ((f"W{l}", (layer_dims[l], layer_dims[l - 1])),
                           (f"b{l}", (layer_dims[l], 1))):
            if key not in params:
                return f" (it has no array {key!r})"
            if tuple(params[key].shape) != shape:
                found = short(tuple(params[key].shape))
                return f" (its array {key!r} has shape {found}, not {shape})"
    return f" (it has {len(params) // 2} layers, not {len(layer_dims) - 1})"
