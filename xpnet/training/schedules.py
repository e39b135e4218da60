"""Learning-rate schedules: the learning rate of each epoch from the initial one."""

from __future__ import annotations

from collections.abc import Callable

from ..validation import check_count, check_positive, make_named


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
        self.step_size = check_count(step_size, "step_size", minimum=1)
        self.gamma = check_positive(gamma, "gamma")

    def __call__(self, lr, epoch):
        return lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """``lr * gamma ** epoch``."""

    def __init__(self, gamma: float = 0.95) -> None:
        self.gamma = check_positive(gamma, "gamma")

    def __call__(self, lr, epoch):
        return lr * self.gamma ** epoch


class InverseScaling(Schedule):
    """``lr / (epoch + 1) ** power_t`` (scikit-learn's ``invscaling``, counted in epochs)."""

    def __init__(self, power_t: float = 0.5) -> None:
        self.power_t = check_positive(power_t, "power_t")

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
