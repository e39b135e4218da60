"""The checkpoint format: a training run's whole state in one model file.

A checkpoint is a model file (see :mod:`xpnet.io.container`: npz + JSON header, no
pickle, written atomically) holding the parameters, the optimizer's state, the host
RNG's state (it draws each epoch's sample order), the history so far, early stopping's
state and a description of the run that wrote it, which a resuming run must match.
A run may also record what a model file would say about its network (``"model"``:
class labels, input preprocessing, metadata), so that the checkpoint predicts as the
model file of the same run does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..backend import resolve_backend
from ..errors import ModelFileError
from ..parameters import layer_dims_of
from .container import DAMAGED_FILE_FIX, saved_arrays_on, Expect, header_field, read_model, write_model

Array = Any

CHECKPOINT_KIND = "checkpoint"
CHECKPOINT_FIX = ("remove it or pass another checkpoint path to start a new run "
                  "(fit(..., restart=True), xpnet train --force)")
_GROUPS = ("params", "optimizer", "best", "rng")
_MT_KEYS = 624  # the MT19937 generator's state words
MODEL_KEYS = ("classes", "preprocessing", "metadata")
"""What a checkpoint's ``"model"`` entry may say about its network (each optional)."""


@dataclass
class TrainingState:
    """Everything a training run needs to continue bit-identically.

    ``epoch`` is the next epoch to run (``history.stop_reason`` says whether the run
    stopped early). ``run`` describes the run's settings; ``stopper``
    is early stopping's ``{"best", "best_epoch", "waited"}`` (``best`` None: no
    finite value yet) with its best weights in ``best_params``. ``model`` (None: not
    recorded) holds :data:`MODEL_KEYS` (the run that writes it checks them).
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
    model: dict[str, Any] | None = None


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
    if state.model is not None:
        header["model"] = state.model
    return write_model(path, arrays, header)


def read_checkpoint(path: str | os.PathLike, backend: Any) -> TrainingState:
    """The :class:`TrainingState` in ``path``, its arrays on ``backend``.

    Raises ``FileNotFoundError`` for a missing file and :class:`ModelFileError` for
    one that is not a complete, consistent xpnet checkpoint.
    """
    try:
        arrays, header = read_model(path, expect_checkpoint(path))
    except ModelFileError as exc:  # the file reader's advice is about model files
        raise ModelFileError(str(exc).replace(DAMAGED_FILE_FIX, CHECKPOINT_FIX)) from exc
    return checkpoint_of(arrays, header, Path(path), backend)


def expect_checkpoint(path: str | os.PathLike) -> Expect:
    """What a checkpoint at ``path`` must declare, for
    :func:`~xpnet.io.container.read_model`, checked before any array is read: parameters
    that form a network, optimizer slots and best weights each shaped as the parameter
    they belong to, the generator's 624 ``uint32`` words, nothing else."""
    def expect(header: dict[str, Any], declared: dict[str, np.ndarray]) -> list[str]:
        where = Path(path)
        if header.get("kind") != CHECKPOINT_KIND:
            raise damaged_checkpoint(where, f"it holds a {str(header.get('kind'))[:80]!r} "
                                            "file, not a training checkpoint")
        groups = _grouped(declared, where)
        try:
            layer_dims_of(groups["params"])
        except (ValueError, TypeError) as exc:
            raise damaged_checkpoint(where, "its params arrays do not match a network: some "
                                            f"are missing or misshapen ({str(exc)[:200]})") from exc
        for group in ("optimizer", "best"):
            for name, array in groups[group].items():
                param = groups["params"].get(name.rsplit("/", 1)[-1])
                if param is None or param.shape != array.shape or param.dtype != array.dtype:
                    raise damaged_checkpoint(where, f"its {group} arrays {[name[:80]]} do not "
                                                    "match the network's parameters")
        _rng_keys(groups["rng"].get("keys"), where)
        return list(declared)
    return expect


def checkpoint_of(arrays: Mapping[str, np.ndarray], header: Mapping[str, Any], where: Path,
                  backend: Any) -> TrainingState:
    """The :class:`TrainingState` of a checkpoint read with :func:`expect_checkpoint`, its
    arrays on ``backend``."""
    groups = _grouped(arrays, where)
    for name, array in arrays.items():
        if not np.all(np.isfinite(array)):  # no run writes a non-finite checkpoint
            raise damaged_checkpoint(where, f"its array {name!r} holds NaN or infinity")

    def on_backend(group: str) -> dict[str, Array]:
        # Each array in its saved dtype, refused (not narrowed) where the backend lacks it.
        return saved_arrays_on(resolve_backend(backend), groups[group], where)

    return TrainingState(
        epoch=_entry(header, "epoch", int, where), run=_entry(header, "run", dict, where),
        params=on_backend("params"), optimizer_arrays=on_backend("optimizer"),
        optimizer_values=_entry(header, "optimizer", dict, where),
        rng_state=_rng_state(_entry(header, "rng", dict, where), groups["rng"].get("keys"), where),
        history=_entry(header, "history", dict, where),
        stopper=_entry(header, "stopper", (dict, type(None)), where), best_params=on_backend("best"),
        model=_model_entry(header, where))


def _model_entry(header: Mapping[str, Any], where: Path) -> dict[str, Any] | None:
    """The header's optional ``model`` entry (checkpoints of older versions have none)."""
    model = header.get("model")
    if model is not None and not isinstance(model, dict):
        raise damaged_checkpoint(where, "its header's 'model' entry is not a dict")
    return model


def damaged_checkpoint(where: Path, problem: str) -> ModelFileError:
    """The error for a checkpoint at ``where`` that no run can resume from, and why."""
    return ModelFileError(f"checkpoint {where} cannot be resumed from: {problem}; "
                          f"{CHECKPOINT_FIX}")


def _rng_state(rng: Mapping[str, Any], keys: np.ndarray | None, where: Path) -> tuple:
    """The sample-order generator's state, checked to be one ``RandomState`` can take."""
    try:
        state = (str(rng["algorithm"]), _rng_keys(keys, where), int(rng["position"]),
                 int(rng["has_gauss"]), float(rng["cached_gaussian"]))
        if not (0 <= state[2] <= _MT_KEYS and state[3] in (0, 1)):
            raise ValueError(f"position {state[2]}, has_gauss {state[3]} out of range")
        np.random.RandomState().set_state(state)  # refuses a state it cannot use
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise damaged_checkpoint(where, "its random-number state is unusable "
                                        f"({str(exc)[:200]})") from exc
    return state


def _rng_keys(keys: np.ndarray | None, where: Path) -> np.ndarray:
    if keys is None or keys.dtype != np.uint32 or keys.shape != (_MT_KEYS,):
        raise damaged_checkpoint(where, "its random-number state is missing or malformed")
    return keys


def _grouped(arrays: Mapping[str, np.ndarray], where: Path) -> dict[str, dict[str, np.ndarray]]:
    groups: dict[str, dict[str, np.ndarray]] = {group: {} for group in _GROUPS}
    for name, array in arrays.items():
        group, _, key = name.partition("/")
        if group not in groups or not key:
            raise damaged_checkpoint(where, f"it holds an array {name[:80]!r} that no "
                                            "checkpoint has")
        groups[group][key] = array
    return groups


def _entry(header: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: Path) -> Any:
    """``header[key]``, checked by :func:`header_field`; the refusal names the entry only."""
    return header_field(header, key, kind, where, lambda _problem: damaged_checkpoint(
        where, f"its header's {key!r} entry is missing or of the wrong type"))
