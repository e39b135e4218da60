"""Checkpoints: a training run's whole state in one file, so a run that is killed or
interrupted resumes exactly where its last checkpoint left it.

A checkpoint is a model file (see :mod:`xpnet.io`: npz + JSON header, no pickle,
written atomically) holding the parameters, the optimizer's state, the host RNG's
state (it draws each epoch's sample order), the history so far, early stopping's
state and a description of the run that wrote it, which a resuming run must match.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..backend import array_namespace, asarray, to_numpy
from ..errors import ModelFileError
from ..io import DAMAGED_FILE_FIX, read_model, write_model
from .history import History

Array = Any

CHECKPOINT_KIND = "checkpoint"
CHECKPOINT_FIX = ("remove it or pass another checkpoint path to start a new run "
                  "(fit(..., restart=True), xpnet train --force)")
STOP_REASONS = ("completed", "early_stopping", "callback")
_GROUPS = ("params", "optimizer", "best", "rng")
_MT_KEYS = 624  # the MT19937 generator's state words


@dataclass
class TrainingState:
    """Everything a training run needs to continue bit-identically.

    ``epoch`` is the next epoch to run (``history.stop_reason`` says whether the run
    stopped early). ``run`` describes the run's settings; ``stopper``
    is early stopping's ``{"best", "best_epoch", "waited"}`` (``best`` None: no
    finite value yet) with its best weights in ``best_params``.
    """

    epoch: int
    run: dict[str, Any]
    params: dict[str, Array]
    optimizer_arrays: dict[str, Array]
    optimizer_values: dict[str, Any]
    rng_state: tuple
    history: dict[str, Any]
    stopper: dict[str, Any] | None = None
    best_params: dict[str, Array] = field(default_factory=dict)


def write_checkpoint(path: str | os.PathLike, state: TrainingState) -> Path:
    """Write ``state`` to ``path`` atomically: a reader sees the old file or the new one."""
    algorithm, keys, position, has_gauss, cached_gaussian = state.rng_state
    arrays = {**{f"params/{k}": a for k, a in state.params.items()},
              **{f"optimizer/{k}": a for k, a in state.optimizer_arrays.items()},
              **{f"best/{k}": a for k, a in state.best_params.items()},
              "rng/keys": np.asarray(keys, dtype=np.uint32)}
    header = {"kind": CHECKPOINT_KIND, "epoch": state.epoch, "run": state.run,
              "optimizer": dict(state.optimizer_values),
              "rng": {"algorithm": algorithm, "position": int(position),
                      "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)},
              "history": state.history, "stopper": state.stopper}
    return write_model(path, arrays, header)


def read_checkpoint(path: str | os.PathLike, backend: Any) -> TrainingState:
    """The :class:`TrainingState` in ``path``, its arrays on ``backend``.

    Raises ``FileNotFoundError`` for a missing file and :class:`ModelFileError` for
    one that is not a complete, consistent xpnet checkpoint.
    """
    where = Path(path)
    try:
        arrays, header = read_model(path)
    except ModelFileError as exc:  # the file reader's advice is about model files
        raise ModelFileError(str(exc).replace(DAMAGED_FILE_FIX, CHECKPOINT_FIX)) from exc
    if header.get("kind") != CHECKPOINT_KIND:
        raise _damaged(where, f"it holds a {str(header.get('kind'))[:80]!r} file, not a training "
                              "checkpoint")
    groups = _grouped(arrays, where)

    def on_backend(group: str) -> dict[str, Array]:
        return {name: asarray(a, backend=backend) for name, a in groups[group].items()}

    return TrainingState(
        epoch=_entry(header, "epoch", int, where), run=_entry(header, "run", dict, where),
        params=on_backend("params"), optimizer_arrays=on_backend("optimizer"),
        optimizer_values=_entry(header, "optimizer", dict, where),
        rng_state=_rng_state(_entry(header, "rng", dict, where), groups["rng"].get("keys"), where),
        history=_entry(header, "history", dict, where),
        stopper=_entry(header, "stopper", (dict, type(None)), where), best_params=on_backend("best"))


def _damaged(where: Path, problem: str) -> ModelFileError:
    return ModelFileError(f"checkpoint {where} cannot be resumed from: {problem}; {CHECKPOINT_FIX}")


def _rng_state(rng: Mapping[str, Any], keys: np.ndarray | None, where: Path) -> tuple:
    """The sample-order generator's state, checked to be one ``RandomState`` can take."""
    if keys is None or keys.dtype != np.uint32 or keys.shape != (_MT_KEYS,):
        raise _damaged(where, "its random-number state is missing or malformed")
    try:
        state = (str(rng["algorithm"]), keys, int(rng["position"]), int(rng["has_gauss"]),
                 float(rng["cached_gaussian"]))
        if not (0 <= state[2] <= _MT_KEYS and state[3] in (0, 1)):
            raise ValueError(f"position {state[2]}, has_gauss {state[3]} out of range")
        np.random.RandomState().set_state(state)  # refuses a state it cannot use
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise _damaged(where, f"its random-number state is unusable ({str(exc)[:200]})") from exc
    return state


def _grouped(arrays: Mapping[str, np.ndarray], where: Path) -> dict[str, dict[str, np.ndarray]]:
    groups: dict[str, dict[str, np.ndarray]] = {group: {} for group in _GROUPS}
    for name, array in arrays.items():
        group, _, key = name.partition("/")
        if group not in groups or not key:
            raise _damaged(where, f"it holds an array {name[:80]!r} that no checkpoint has")
        if not np.all(np.isfinite(array)):  # no run writes a non-finite checkpoint
            raise _damaged(where, f"its array {name!r} holds NaN or infinity")
        groups[group][key] = array
    return groups


def _entry(header: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: Path) -> Any:
    value = header.get(key, ...)
    # bool is an int in Python; an epoch of True is a damaged file, not epoch 1.
    if value is ... or not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _damaged(where, f"its header's {key!r} entry is missing or of the wrong type")
    return value


class Checkpointer:
    """Saves a training run every ``every`` epochs to ``path`` and restores a run from it.

    :meth:`describe` sets the run's settings (plain data), stored with each checkpoint:
    a run may resume only from a checkpoint whose description equals its own.
    """

    def __init__(self, path: str | os.PathLike, every: int, resume: bool, restart: bool) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"checkpoint must be a file path (str or os.PathLike), not "
                            f"{type(path).__name__}")
        self.path = Path(path)
        self.every = every
        self.description: dict[str, Any] = {}
        if self.path.is_dir():
            raise IsADirectoryError(f"checkpoint {self.path} is a directory; pass a file path "
                                    "such as run.ckpt.npz")
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"checkpoint {self.path}: the directory {self.path.parent} "
                                    "does not exist; create it or choose another path")
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
             history: History, stopper: Any) -> None:
        optimizer_arrays, optimizer_values = optimizer.get_state()
        stopper_values, best_params = (None, {}) if stopper is None else stopper.get_state()
        write_checkpoint(self.path, TrainingState(
            epoch=next_epoch, run=self.description, params=dict(params),
            optimizer_arrays=optimizer_arrays, optimizer_values=optimizer_values,
            rng_state=rng.get_state(), history=history.as_dict(), stopper=stopper_values,
            best_params=best_params))
        self.exists = True

    def restore(self, params: dict[str, Array], optimizer: Any, rng: Any, stopper: Any,
                first_epoch: int, end_epoch: int) -> tuple[int, History]:
        """Load the checkpoint into a freshly prepared run; returns ``(next_epoch, history)``.

        ``params`` (freshly initialised, so of the right shapes and dtype) are replaced in
        place. The run started at ``first_epoch`` and is asked to end at ``end_epoch``.
        """
        state = read_checkpoint(self.path, array_namespace(*params.values()))
        self._check_same_run(state.run)
        self._check_arrays("params", state.params, params, exact=True)
        self._check_arrays("optimizer", state.optimizer_arrays, params)
        self._check_arrays("best", state.best_params, params, exact=bool(state.best_params))
        try:
            history = History.from_dict(state.history)
            _check_progress(state.epoch, history, first_epoch, stopper)
            optimizer.set_state(state.optimizer_arrays, state.optimizer_values)
            if stopper is not None:
                stopper.set_state(state.stopper, state.best_params)
        except (ValueError, TypeError, OverflowError) as exc:
            raise _damaged(self.path, str(exc)[:300]) from exc
        if state.epoch > end_epoch:
            raise ValueError(f"checkpoint {self.path} holds {state.epoch} epochs, more than this "
                             f"run asks for (it ends at epoch {end_epoch}); pass more epochs, or "
                             "another checkpoint path to start a new run")
        rng.set_state(state.rng_state)
        params.update(state.params)
        return state.epoch, history

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


def _check_progress(epoch: int, history: History, first_epoch: int, stopper: Any) -> None:
    """The epoch, the history and the stop reason of a checkpoint must tell one story."""
    if len(history.loss) != epoch - first_epoch:
        raise ValueError(f"it is at epoch {epoch} of a run that started at epoch {first_epoch}, "
                         f"but its history holds {len(history.loss)} epochs")
    if history.stop_reason not in STOP_REASONS:
        raise ValueError(f"its stop reason {history.stop_reason[:80]!r} is not one of {STOP_REASONS}")
    if history.stop_reason == "early_stopping" and stopper is None:
        raise ValueError("it was ended by early stopping, which this run does not use")


def data_fingerprint(*arrays: Array | None) -> str:
    """A SHA-256 of the arrays' bytes (on the host): a resumed run must train on the same data."""
    digest = hashlib.sha256()
    for a in arrays:
        if a is not None:
            host = np.ascontiguousarray(to_numpy(a))
            digest.update(f"{host.dtype.str}{host.shape}".encode())
            digest.update(host.tobytes())
    return digest.hexdigest()
