"""Learning-rate schedules: the learning rate of each epoch from the initial one."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .validation import make_named


def _positive(value: Any, argument: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value <= 0:
        raise ValueError(f"{argument} must be a finite number > 0, got {value!r}")
    return float(value)


class Schedule:
    """``schedule(lr, epoch)`` -> the learning rate of ``epoch`` (0-based)."""

    def __call__(self, lr: float, epoch: int) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


class Constant(Schedule):
    """The same learning rate every epoch."""

    def __call__(self, lr, epoch):
        return lr


class StepDecay(Schedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, step_size: int = 10, gamma: float = 0.5) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"step_size must be an int >= 1, got {step_size!r}")
        self.step_size = step_size
        self.gamma = _positive(gamma, "gamma")

    def __call__(self, lr, epoch):
        return lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """``lr * gamma ** epoch``."""

    def __init__(self, gamma: float = 0.95) -> None:
        self.gamma = _positive(gamma, "gamma")

    def __call__(self, lr, epoch):
        return lr * self.gamma ** epoch


class InverseScaling(Schedule):
    """``lr / (epoch + 1) ** power_t`` (scikit-learn's ``invscaling``, counted in epochs)."""

    def __init__(self, power_t: float = 0.5) -> None:
        self.power_t = _positive(power_t, "power_t")

    def __call__(self, lr, epoch):
        return lr / (epoch + 1) ** self.power_t


SCHEDULES: dict[str, Callable[[], Schedule]] = {
    "constant": Constant,
    "step": StepDecay,
    "exponential": ExponentialDecay,
    "inverse_scaling": InverseScaling,
}


def get_schedule(schedule: str | Schedule) -> Schedule:
    """A schedule from a name (defaults as above) or an instance."""
    return make_named(schedule, SCHEDULES, Schedule, "schedule",
                      "xpnet.StepDecay(step_size=20, gamma=0.1)")
