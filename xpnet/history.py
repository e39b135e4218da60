"""What a training run records: the per-epoch ``History`` and early stopping."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .parameters import copy_params
from .validation import check_count, check_non_negative

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
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stop_reason: str = "completed"

    def record(self, logs: Mapping[str, float]) -> None:
        """Append one epoch's metrics (the keys present in ``logs``)."""
        for name, value in logs.items():
            getattr(self, name).append(value)

    @property
    def epochs(self) -> int:
        """The number of epochs recorded."""
        return len(self.loss)

    def as_dict(self) -> dict[str, Any]:
        return {name: list(getattr(self, name)) if isinstance(getattr(self, name), list)
                else getattr(self, name) for name in self.__dataclass_fields__}


class EarlyStopping:
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Keeps a copy of the best weights (on their backend) to restore at the end.
    """

    def __init__(self, patience: int, monitor: str, min_delta: float = 0.0) -> None:
        self.patience = check_count(patience, "early_stopping (patience)")
        self.min_delta = check_non_negative(min_delta, "min_delta")
        self.monitor = monitor
        self.best = math.inf
        self.best_epoch: int | None = None
        self.best_params: dict[str, Array] | None = None
        self._waited = 0

    def should_stop(self, epoch: int, logs: Mapping[str, float], params: Mapping[str, Array]) -> bool:
        """Record this epoch; True when training should stop."""
        value = logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self._waited = value, epoch, 0
            self.best_params = copy_params(params)
            return False
        self._waited += 1
        return self._waited > self.patience
