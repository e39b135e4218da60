"""What a training run records: the per-epoch ``History`` and early stopping."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..parameters import host_copy_params
from ..validation import check_count, check_non_negative

Array = Any


@dataclass
class History:
    """Per-epoch metrics of a training run, as Python floats.

    ``loss`` is the mean data cost over the epoch's mini-batches (computed before
    each batch's update; without the L2 penalty); ``accuracy`` is measured the
    same way, for sigmoid and softmax outputs only. ``val_*`` are measured after
    the epoch on the validation data, when there is some. ``stop_reason`` is
    ``"completed"``, ``"early_stopping"``, ``"callback"`` or ``"non_finite_loss"``;
    ``best_epoch`` (0-based) is the epoch whose weights early stopping restored.
    ``learned`` is False when the run did not learn (see :mod:`xpnet.training.convergence`;
    a :class:`~xpnet.errors.ConvergenceWarning` said so), True when it did, None when it
    was not judged (a short run, a pause, a divergence). ``initial_loss`` is the loss of the
    weights the run started from (its first mini-batch's, before any update).
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stop_reason: str = "completed"
    learned: bool | None = None
    initial_loss: float | None = None

    def record(self, logs: Mapping[str, float]) -> None:
        """Append one epoch's metrics (the keys present in ``logs``)."""
        for name, value in logs.items():
            getattr(self, name).append(value)

    @property
    def epochs(self) -> int:
        """The number of epochs recorded."""
        return len(self.loss)

    def as_dict(self) -> dict[str, Any]:
        """The history as plain data (``learned`` and ``initial_loss`` left out while None, so
        such a history reads as those of earlier versions)."""
        found = {name: list(getattr(self, name)) if isinstance(getattr(self, name), list)
                 else getattr(self, name) for name in self.__dataclass_fields__}
        return {name: value for name, value in found.items()
                if value is not None or name not in ("learned", "initial_loss")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> History:
        """The history that :meth:`as_dict` described; ``ValueError`` for anything else."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"a history has no entries {sorted(unknown)}")
        history = cls(**data)
        for name in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
            values = getattr(history, name)
            if not isinstance(values, list) or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                raise ValueError(f"history.{name} must be a list of numbers")
        if history.best_epoch is not None and (isinstance(history.best_epoch, bool)
                                               or not isinstance(history.best_epoch, int)):
            raise ValueError("history.best_epoch must be an int or None")
        if not isinstance(history.stop_reason, str):
            raise ValueError("history.stop_reason must be a str")
        if history.learned not in (None, True, False):
            raise ValueError("history.learned must be True, False or None")
        if history.initial_loss is not None and (isinstance(history.initial_loss, bool) or
                                                 not isinstance(history.initial_loss, (int, float))):
            raise ValueError("history.initial_loss must be a number or None")
        return history


class EarlyStopping:
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Keeps a copy of the best weights in host memory (off the device) to restore at the end.
    """

    def __init__(self, patience: int, monitor: str, min_delta: float = 0.0) -> None:
        self.patience = check_count(patience, "early_stopping (patience)")
        self.min_delta = check_non_negative(min_delta, "min_delta")
        self.monitor = monitor
        self.best = math.inf
        self.best_epoch: int | None = None
        self.best_params: dict[str, Array] | None = None
        self._waited = 0

    def get_state(self) -> tuple[dict[str, Any], dict[str, Array]]:
        """``(values, best_params)``: where the wait stands, for a checkpoint."""
        best = None if math.isinf(self.best) else self.best
        return ({"best": best, "best_epoch": self.best_epoch, "waited": self._waited},
                dict(self.best_params or {}))

    def set_state(self, values: Mapping[str, Any], best_params: Mapping[str, Array]) -> None:
        """Continue the wait saved by :meth:`get_state`; ``ValueError`` for a malformed state."""
        best, best_epoch, waited = values.get("best"), values.get("best_epoch"), values.get("waited")
        numbers_ok = (best is None or isinstance(best, (int, float))) and all(
            v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)
            for v in (best_epoch, waited))
        if not numbers_ok or waited is None or (best is None) != (best_epoch is None):
            raise ValueError(f"early stopping's saved state is malformed: {dict(values)!r}")
        self.best = math.inf if best is None else float(best)
        self.best_epoch, self._waited = best_epoch, waited
        self.best_params = host_copy_params(best_params) if best_params else None

    def should_stop(self, epoch: int, logs: Mapping[str, float], params: Mapping[str, Array]) -> bool:
        """Record this epoch; True when training should stop."""
        value = logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self._waited = value, epoch, 0
            self.best_params = host_copy_params(params)
            return False
        self._waited += 1
        return self._waited > self.patience
