"""Checkpoints: a training run's whole state in one file, so a run that is killed or
interrupted resumes exactly where its last checkpoint left it.

:class:`Checkpointer` saves and restores a run; the file format (what a checkpoint
holds, and the checks on reading it) is :mod:`xpnet.io.checkpoint_file`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..backend import array_namespace, to_numpy
from ..io import TrainingState, check_description, read_checkpoint, write_checkpoint
from ..errors import ModelFileError
from ..io.checkpoint_file import CHECKPOINT_KIND, MODEL_KEYS
from ..io.checkpoint_file import damaged_checkpoint as _damaged
from ..io.container import check_plain, read_header, short
from ..outputs import Output, get_output
from ..parameters import layer_dims_of
from .history import History

Array = Any

STOP_REASONS = ("completed", "early_stopping", "callback")


class Checkpointer:
    """Saves a training run every ``every`` epochs to ``path`` and restores a run from it.

    :meth:`describe` sets the run's settings (plain data), stored with each checkpoint:
    a run may resume only from a checkpoint whose description equals its own. ``model``
    (classes, preprocessing, metadata) is stored with it too, so that the checkpoint
    loads as the model a model file of the run would give; a resumed run need not match it.
    """

    def __init__(self, path: str | os.PathLike, every: int, resume: bool, restart: bool,
                 model: Mapping[str, Any] | None = None) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"checkpoint must be a file path (str or os.PathLike), not "
                            f"{type(path).__name__}")
        self.path = Path(path)
        self.every = every
        self.description: dict[str, Any] = {}
        self.model = model
        # Tensor parallel: the run's TensorParallel. Each rank holds a share of the
        # weights; the file holds the whole network (the file one process writes, so the
        # run may resume on any number of ranks, or alone), joined on rank 0, which writes
        # it, and each rank reads back its share. None: the weights here are whole.
        self.shards: Any = None
        if self.path.is_dir():
            raise IsADirectoryError(f"checkpoint {self.path} is a directory; pass a file path "
                                    "such as run.ckpt.npz")
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"checkpoint {self.path}: the directory {self.path.parent} "
                                    "does not exist; create it or choose another path")
        refuse_a_saved_model(self.path)
        # A restarted run replaces the old checkpoint with its first save, not before:
        # until then a failure leaves the old one.
        self.exists = self.path.exists() and not restart
        if self.exists and not resume:
            raise FileExistsError(f"checkpoint {self.path} exists; pass resume=True (--resume) to "
                                  "continue that run, or restart=True (--force) to start a new "
                                  "one over it, or choose another path")

    def describe(self, description: dict[str, Any]) -> None:
        """The settings of this run, checked now to fit in a checkpoint's header."""
        try:
            json.dumps(description, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"a setting of this run cannot be stored in a checkpoint ({exc}); "
                            "pass plain Python numbers and strings") from exc
        self.description = description

    def due(self, epoch: int, last: bool) -> bool:
        """Whether to save after ``epoch`` (0-based; ``last``: the run ends after it)."""
        return last or (epoch + 1) % self.every == 0

    def save(self, next_epoch: int, params: Mapping[str, Array], optimizer: Any, rng: Any,
             history: History, early_stopping: Any) -> None:
        optimizer_arrays, optimizer_values = optimizer.get_state()
        stopper_values, best_params = (None, {}) if early_stopping is None \
            else early_stopping.get_state()
        if self.shards is not None:  # every rank sends its shares; rank 0 writes the whole
            joined = self.shards.joined_on_root({
                **{f"params/{k}": a for k, a in params.items()},
                **{f"optimizer/{k}": a for k, a in optimizer_arrays.items()},
                **{f"best/{k}": a for k, a in best_params.items()}})
            if joined is None:
                self.exists = True
                return
            params, optimizer_arrays, best_params = (_group(joined, group) for group in
                                                     ("params", "optimizer", "best"))
        write_checkpoint(self.path, TrainingState(
            epoch=next_epoch, run=self.description, params=dict(params),
            optimizer_arrays=optimizer_arrays, optimizer_values=optimizer_values,
            rng_state=rng.get_state(), history=history.as_dict(), stopper=stopper_values,
            best_params=best_params, model=self.model))
        self.exists = True

    def restore(self, params: dict[str, Array], optimizer: Any, rng: Any, early_stopping: Any,
                first_epoch: int, end_epoch: int) -> tuple[int, History]:
        """Load the checkpoint into a freshly prepared run; returns ``(next_epoch, history)``.

        ``params`` (freshly initialised, so of the right shapes and dtype) are replaced in
        place. The run started at ``first_epoch`` and is asked to end at ``end_epoch``.
        """
        xp = array_namespace(*params.values())
        state = read_checkpoint(self.path, xp if self.shards is None else "numpy")
        self._check_same_run(state.run)
        if self.model is None:  # a resumed run that names no model keeps what the file recorded
            self.model = state.model
        if self.shards is not None:
            state = self._share_of(state, next(iter(params.values())))
        self._check_arrays("params", state.params, params, exact=True)
        self._check_arrays("optimizer", state.optimizer_arrays, params)
        self._check_arrays("best", state.best_params, params, exact=bool(state.best_params))
        try:
            history = History.from_dict(state.history)
            _check_progress(state.epoch, history, first_epoch, early_stopping)
            optimizer.set_state(state.optimizer_arrays, state.optimizer_values)
            if early_stopping is not None:
                early_stopping.set_state(state.stopper, state.best_params)
        except (ValueError, TypeError, OverflowError) as exc:
            raise _damaged(self.path, str(exc)[:300]) from exc
        if state.epoch > end_epoch:
            raise ValueError(f"checkpoint {self.path} holds {state.epoch} epochs, more than this "
                             f"run asks for (it ends at epoch {end_epoch}); pass more epochs, or "
                             "another checkpoint path to start a new run")
        rng.set_state(state.rng_state)
        params.update(state.params)
        return state.epoch, history

    def _share_of(self, state: TrainingState, like: Array) -> TrainingState:
        """This rank's share of a checkpoint's whole network (read on the host)."""
        dims = layer_dims_of(state.params)
        if dims != list(self.shards.layout.layer_dims):
            raise _damaged(self.path, f"its params are a network of layer_dims {dims}, not "
                                      f"{list(self.shards.layout.layer_dims)} as its header says")
        share = self.shards.share_of
        return dataclasses.replace(state, params=share(state.params, like),
                                   optimizer_arrays=share(state.optimizer_arrays, like),
                                   best_params=share(state.best_params, like))

    def _check_same_run(self, saved: Mapping[str, Any]) -> None:
        different = [f"{key}={repr(saved.get(key))[:80]} there, {repr(value)[:80]} here"
                     for key, value in self.description.items() if saved.get(key) != value]
        if different:
            raise ValueError(f"checkpoint {self.path} was written by a run with other settings "
                             f"({'; '.join(different)}); resume with the same settings and data, "
                             "or pass another checkpoint path to start a new run")

    def _check_arrays(self, group: str, saved: Mapping[str, Array], params: Mapping[str, Array],
                      exact: bool = False) -> None:
        """Each saved array must have the shape and dtype of the parameter it belongs to."""
        keys = {name: name.rsplit("/", 1)[-1] for name in saved}
        wrong = [name for name, key in keys.items()
                 if key not in params or saved[name].shape != params[key].shape
                 or saved[name].dtype != params[key].dtype]
        if exact and set(keys.values()) != set(params):
            wrong.append(f"(parameters {sorted(set(params) - set(keys.values()))} missing)")
        if wrong:
            raise _damaged(self.path, f"its {group} arrays {wrong[:10]} do not match the "
                                      "network's parameters")


def _group(arrays: Mapping[str, Any], group: str) -> dict[str, Any]:
    """The arrays named ``GROUP/NAME`` of ``group``, by ``NAME``."""
    prefix = group + "/"
    return {name[len(prefix):]: a for name, a in arrays.items() if name.startswith(prefix)}


def _check_progress(epoch: int, history: History, first_epoch: int,
                    early_stopping: Any) -> None:
    """The epoch, the history and the stop reason of a checkpoint must tell one story."""
    if len(history.loss) != epoch - first_epoch:
        raise ValueError(f"it is at epoch {epoch} of a run that started at epoch {first_epoch}, "
                         f"but its history holds {len(history.loss)} epochs")
    if history.stop_reason not in STOP_REASONS:
        raise ValueError(f"its stop reason {history.stop_reason[:80]!r} is not one of {STOP_REASONS}")
    if history.stop_reason == "early_stopping" and early_stopping is None:
        raise ValueError("it was ended by early stopping, which this run does not use")


def check_checkpoint_model(model: Mapping[str, Any], layer_dims: list[int],
                           output: Output | str) -> dict[str, Any]:
    """A checkpoint's ``model`` entry (:data:`MODEL_KEYS`) as plain data, its classes and
    preprocessing checked against the network of ``layer_dims`` and its ``output``;
    raises ``ValueError`` or ``TypeError`` naming the problem."""
    if not isinstance(model, Mapping) or not set(model) <= set(MODEL_KEYS):
        raise TypeError(f"checkpoint_model must be a dict of {', '.join(MODEL_KEYS)} (each "
                        f"optional), got {short(model)}")
    metadata = model.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"checkpoint_model's metadata must be a dict, got {short(metadata)}")
    check_plain(dict(metadata), "checkpoint_model's metadata")
    checked = check_description({key: model.get(key) for key in ("classes", "preprocessing")},
                                layer_dims)
    if checked["classes"] is not None and not get_output(output).classifier:
        raise ValueError(f"checkpoint_model names classes, but output={get_output(output).name!r} "
                         "does not classify: leave the classes out")
    return {"classes": checked["classes"], "preprocessing": checked["preprocessing"],
            "metadata": dict(metadata)}



def data_fingerprint(*arrays: Array | None) -> str:
    """A SHA-256 of the arrays' bytes (on the host): a resumed run must train on the same data."""
    digest = hashlib.sha256()
    for a in arrays:
        if a is not None:
            host = np.ascontiguousarray(to_numpy(a))
            digest.update(f"{host.dtype.str}{host.shape}".encode())
            digest.update(host.tobytes())
    return digest.hexdigest()


def refuse_a_saved_model(path: Path) -> None:
    """Refuse a checkpoint path that holds a saved model: restarting over it (which a
    checkpoint's own errors suggest) would replace the model with the run's checkpoint."""
    try:
        kind = read_header(path).get("kind") if path.is_file() else None
    except (ModelFileError, OSError):  # not an xpnet file: the checkpoint's checks say so
        return
    if kind is not None and kind != CHECKPOINT_KIND:
        raise FileExistsError(f"checkpoint {path} holds a saved model ({short(kind)}), not a "
                              "training checkpoint; give the checkpoint a path of its own (a "
                              "run writes over its checkpoint)")
