"""Estimators to and from one model file: ``est.save(path)`` and :func:`load`.

The file is :mod:`xpnet.io`'s network file: the parameters, the estimator's class
name as its kind, and as metadata the hyper-parameters (``settings``) and the
fitted state ``predict`` needs (``fitted``), all plain data. :func:`load` opens every
file xpnet writes: an estimator's gives the estimator, a params file
(``save_params``, ``xpnet train --save``) or a checkpoint a :class:`~xpnet.Model`.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

import numpy as np

from ..backend import backend_name, dtype_name, get_backend, resolve_backend
from ..errors import ModelFileError
from ..evaluation import warn_unrecorded
from ..io import (PARAMS_KIND, ModelParams, description_of, expect_network, network_of, read_model,
                  write_network)
from ..io.checkpoint_file import CHECKPOINT_KIND, checkpoint_of, expect_checkpoint
from ..io.container import saved_arrays_on
from ..model import Model
from ..parameters import layer_dims_of
from .sklearn_base import BaseEstimator

# The estimator classes a model file may name, by class name (each one marked @loadable).
ESTIMATORS: dict[str, type[BaseEstimator]] = {}


# Settings added after the first file format, with their defaults: a setting at its default
# is left out, so files of models that do not use it stay as they were (and load as before).
ADDED_LATER: dict[str, Any] = {"warm_start": False, "max_fun": 15000}


def loadable(cls: type[BaseEstimator]) -> type[BaseEstimator]:
    """Class decorator: model files of kind ``cls.__name__`` load as ``cls``."""
    ESTIMATORS[cls.__name__] = cls
    return cls


def save(estimator: Any, path: str | os.PathLike, params: Any = None) -> pathlib.Path:
    """Write the fitted ``estimator``'s parameters (``params``: the whole network, where
    ``params_`` is a rank's share), settings and fitted state to ``path``."""
    # A communicator belongs to the processes that trained, and with it the way they split
    # the work: a loaded model is one whole network in one process.
    settings = {name: _plain(value) for name, value in estimator.get_params().items()
                if name not in ("comm", "parallel")
                and not (name in ADDED_LATER and value == ADDED_LATER[name])}
    if not isinstance(settings["backend"], str):
        settings["backend"] = backend_name(settings["backend"])
    if not (settings["random_state"] is None or isinstance(settings["random_state"], int)):
        settings["random_state"] = None  # a RandomState object is not plain data
    if settings["dtype"] is not None:
        settings["dtype"] = dtype_name(settings["dtype"])
    return write_network(path, estimator.params_ if params is None else params,
                         type(estimator).__name__,
                         {"settings": settings, "fitted": estimator._fitted_state()})


def _plain(value: Any) -> Any:
    """NumPy numbers and arrays (say from a parameter grid) as plain Python data for the header."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def load(path: str | os.PathLike, backend: Any = None) -> BaseEstimator | Model:
    """The model in any file xpnet writes; it predicts what the saved one did.

    ``est.save(path)``'s file gives a fitted estimator; a file of ``save_params`` or
    ``xpnet train --save`` a :class:`~xpnet.Model` with its recorded activations, classes
    and preprocessing; a checkpoint the :class:`~xpnet.Model` of its parameters (with its
    run's activations, and the classes, preprocessing and metadata the run recorded:
    ``xpnet train`` records those of its ``--save`` file). ``backend`` decides where the parameters go (``None``: an
    estimator's own ``backend`` setting, ``"auto"`` by default; else the selected
    backend). Raises ``FileNotFoundError`` or :class:`~xpnet.errors.ModelFileError`
    (naming the file) for a missing, damaged, foreign or newer-version file.
    """
    if backend is not None:
        resolve_backend(backend)  # a bad backend argument is the caller's error, not the file's
    kinds = (*ESTIMATORS, PARAMS_KIND)

    def expect(header: dict[str, Any], declared: dict[str, np.ndarray]) -> list[str]:
        # One read of the file, whichever kind it is: only the arrays of that kind are read.
        if header.get("kind") == CHECKPOINT_KIND:
            return expect_checkpoint(path)(header, declared)
        return expect_network(path, kinds)(header, declared)

    arrays, header = read_model(path, expect)
    where = pathlib.Path(path)
    xp = get_backend() if backend is None else resolve_backend(backend)
    if header.get("kind") == CHECKPOINT_KIND:
        state = checkpoint_of(arrays, header, where, xp)
        if not {"hidden", "output"} <= set(state.run):
            raise ModelFileError(f"checkpoint {path} does not say which activations its run "
                                 "used (no 'hidden'/'output' in its run description); resume "
                                 "the run with fit(..., checkpoint=path, resume=True) instead")
        model = state.model or {}  # what the run recorded of its model (older ones: nothing)
        try:
            return Model(state.params, hidden=state.run["hidden"], output=state.run["output"],
                         classes=model.get("classes"), preprocessing=model.get("preprocessing"),
                         metadata={**(model.get("metadata") or {}), "epoch": state.epoch,
                                   "history": state.history})
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"checkpoint {path}: its model description does not fit its "
                                 f"network ({str(exc)[:300]}); resume the run with "
                                 "fit(..., checkpoint=path, resume=True) to write it again"
                                 ) from exc
    params, metadata = network_of(arrays, header, where, kinds)
    kind = header["kind"]
    if kind == PARAMS_KIND:
        description = description_of(header, where)  # (a file of format 1 warns there)
        if header["format_version"] >= 2:
            warn_unrecorded([key for key in ("hidden", "output") if description[key] is None],
                            stacklevel=3)
        described = ModelParams(saved_arrays_on(xp, params, where), description)
        try:
            return Model.from_params(described, metadata)
        except (TypeError, ValueError) as exc:  # a description no model can have
            raise ModelFileError(f"{path}: its model description does not make a model "
                                 f"({str(exc)[:300]})") from exc
    try:
        settings = dict(metadata["settings"])
        if isinstance(settings.get("hidden_layer_sizes"), list):  # JSON has no tuples
            settings["hidden_layer_sizes"] = tuple(settings["hidden_layer_sizes"])
        estimator = ESTIMATORS[kind](**settings)
        estimator._hidden_activation()
        dims = layer_dims_of(params)
        if estimator._hidden_sizes() != dims[1:-1]:
            raise ValueError(f"hidden_layer_sizes {estimator.hidden_layer_sizes!r} do not match "
                             f"the network's layer sizes {dims}")
        if backend is not None:
            estimator.set_params(backend=backend)
        xp = resolve_backend(estimator.backend)
    except (KeyError, TypeError, ValueError) as exc:
        raise _invalid_settings(path, kind, exc) from exc
    weights = saved_arrays_on(xp, params, where)  # the backend's own refusal, not the file's
    try:
        estimator._restore(metadata["fitted"], weights)
    except (KeyError, TypeError, ValueError) as exc:
        raise _invalid_settings(path, kind, exc) from exc
    return estimator


def _invalid_settings(path: str | os.PathLike, kind: str, exc: Exception) -> ModelFileError:
    return ModelFileError(f"{path}: its {kind} settings are incomplete or invalid "
                          f"({str(exc)[:300]}); save the estimator again")
