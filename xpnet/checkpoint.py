"""Checkpoints: a training run's whole state in one file, so a run that is killed or
interrupted resumes exactly where its last checkpoint left it.

A checkpoint is a model file (see :mod:`xpnet.io`: npz + JSON header, no pickle,
written atomically) holding the parameters, the optimizer's state, the host RNG's
state (it draws each epoch's sample order), the history so far, early stopping's
state and a description of the run that wrote it, which a resuming run must match.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .backend import array_namespace, asarray
from .errors import ModelFileError
from .io import read_model, write_model

Array = Any

CHECKPOINT_KIND = "checkpoint"
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
    one that is not a complete xpnet checkpoint.
    """
    arrays, header = read_model(path)
    where = Path(path)
    if header.get("kind") != CHECKPOINT_KIND:
        raise ModelFileError(f"{where} holds a {header.get('kind')!r} file, not a training "
                             "checkpoint; pass the checkpoint file that fit wrote")
    groups = _grouped(arrays, where)
    rng = _entry(header, "rng", dict, where)
    keys = groups["rng"].get("keys")
    if keys is None or keys.dtype != np.uint32 or keys.shape != (_MT_KEYS,):
        raise ModelFileError(f"{where} is damaged: its random-number state is missing or malformed")
    try:
        rng_state = (str(rng["algorithm"]), keys, int(rng["position"]), int(rng["has_gauss"]),
                     float(rng["cached_gaussian"]))
        np.random.RandomState().set_state(rng_state)  # refuses a state it cannot use
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{where} is damaged: its random-number state is unusable ({exc})") from exc

    def on_backend(group: str) -> dict[str, Array]:
        return {name: asarray(a, backend=backend) for name, a in groups[group].items()}

    return TrainingState(
        epoch=_entry(header, "epoch", int, where),
        run=_entry(header, "run", dict, where), params=on_backend("params"),
        optimizer_arrays=on_backend("optimizer"),
        optimizer_values=_entry(header, "optimizer", dict, where), rng_state=rng_state,
        history=_entry(header, "history", dict, where),
        stopper=_entry(header, "stopper", (dict, type(None)), where), best_params=on_backend("best"))


def _grouped(arrays: Mapping[str, np.ndarray], where: Path) -> dict[str, dict[str, np.ndarray]]:
    groups: dict[str, dict[str, np.ndarray]] = {group: {} for group in _GROUPS}
    for name, array in arrays.items():
        group, _, key = name.partition("/")
        if group not in groups or not key:
            raise ModelFileError(f"{where} is damaged or foreign: it holds an array {name!r} "
                                 "that no checkpoint has")
        groups[group][key] = array
    return groups


def _entry(header: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: Path) -> Any:
    value = header.get(key, ...)
    # bool is an int in Python; an epoch of True is a damaged file, not epoch 1.
    if value is ... or not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ModelFileError(f"{where} is damaged: its header's {key!r} entry is missing or "
                             "of the wrong type; it cannot be resumed from")
    return value


class Checkpointer:
    """Saves a training run every ``every`` epochs to ``path`` and restores a run from it.

    ``description`` (plain data: the run's settings) is stored with each checkpoint;
    a run may resume only from a checkpoint whose description equals its own.
    """

    def __init__(self, path: str | os.PathLike, every: int, resume: bool) -> None:
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
        self.exists = self.path.exists()
        if self.exists and not resume:
            raise FileExistsError(f"checkpoint {self.path} exists; pass resume=True (--resume) to "
                                  "continue that run, or remove it or choose another path to "
                                  "start a new one")

    def due(self, epoch: int, last: bool) -> bool:
        """Whether to save after ``epoch`` (0-based; ``last``: the run ends after it)."""
        return last or (epoch + 1) % self.every == 0

    def save(self, next_epoch: int, params: Mapping[str, Array], optimizer: Any, rng: Any,
             history: Any, stopper: Any) -> None:
        optimizer_arrays, optimizer_values = optimizer.get_state()
        stopper_values, best_params = (None, {}) if stopper is None else stopper.get_state()
        write_checkpoint(self.path, TrainingState(
            epoch=next_epoch, run=self.description, params=dict(params),
            optimizer_arrays=optimizer_arrays, optimizer_values=optimizer_values,
            rng_state=rng.get_state(), history=history.as_dict(), stopper=stopper_values,
            best_params=best_params))
        self.exists = True

    def restore(self, params: dict[str, Array], optimizer: Any, rng: Any, stopper: Any,
                history_type: Any) -> tuple[int, Any]:
        """Load the checkpoint into a freshly prepared run; returns ``(next_epoch, history)``.

        ``params`` (freshly initialised, so of the right shapes and dtype) are replaced in place.
        """
        state = read_checkpoint(self.path, array_namespace(*params.values()))
        if state.epoch < 0:
            raise ModelFileError(f"checkpoint {self.path} is damaged: its epoch is {state.epoch}")
        self._check_same_run(state.run)
        self._check_arrays("params", state.params, params, exact=True)
        self._check_arrays("optimizer", state.optimizer_arrays, params)
        self._check_arrays("best", state.best_params, params, exact=bool(state.best_params))
        try:
            optimizer.set_state(state.optimizer_arrays, state.optimizer_values)
            if (stopper is None) != (state.stopper is None):
                raise ValueError("early stopping is on in one run and off in the other")
            if stopper is not None:
                stopper.set_state(state.stopper, state.best_params)
            history = history_type.from_dict(state.history)
        except (ValueError, TypeError) as exc:
            raise ModelFileError(f"checkpoint {self.path} cannot be resumed from: {exc}") from exc
        rng.set_state(state.rng_state)
        params.update(state.params)
        return state.epoch, history

    def _check_same_run(self, saved: Mapping[str, Any]) -> None:
        different = [f"{key}={saved.get(key)!r} there, {value!r} here"
                     for key, value in self.description.items() if saved.get(key) != value]
        if different:
            raise ValueError(f"checkpoint {self.path} was written by a run with other settings "
                             f"({'; '.join(different)}); resume with the same settings, or pass "
                             "another checkpoint path to start a new run")

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
            raise ModelFileError(f"checkpoint {self.path} is damaged or from another network: "
                                 f"its {group} arrays {wrong} do not match the network's "
                                 "parameters")
