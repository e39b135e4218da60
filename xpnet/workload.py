"""What ``backend="auto"`` weighs: the work of one training step, and the devices present.

A GPU step has a floor: measured with CuPy, a training step costs about 0.6 ms whatever
its size below about 1 GFLOP (the kernels' launches, not their arithmetic), while the
host's BLAS runs small steps in a fraction of that: NumPy ran the benchmarks' small
network (``[784, 128, 64, 10]``, batch 256, 0.117 GFLOP per step) in 0.12 ms on the
host of that GPU machine (as reported in issue #18), about 1 TFLOP/s. At that rate the
host takes the GPU's 0.6 ms at about 0.6 GFLOP per step; ``"auto"`` sends a run to the GPU from
:data:`AUTO_GPU_MIN_GFLOP` = 0.5 GFLOP per step, a little below, where the GPU gains
more with every size. A host with few cores breaks even sooner (two cores reach about
120 GFLOP/s on the small network: 0.07 GFLOP in 0.6 ms); the environment variable
``XPNET_AUTO_GPU_GFLOP`` sets the threshold for such a machine. Without a usable GPU
``"auto"`` is NumPy always.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

from . import backend
from .backend import Backend, resolve_backend, wants_auto

AUTO_GPU_MIN_GFLOP = 0.5
"""FLOPs of one training step (in 1e9) from which ``"auto"`` runs on a usable GPU."""
THRESHOLD_ENV_VAR = "XPNET_AUTO_GPU_GFLOP"
GPU_STEP_FLOOR_MS = 0.6
"""About what a GPU training step costs below 1 GFLOP: the launches, not the arithmetic."""


def step_flops(layer_dims: Sequence[int], batch_size: int) -> int:
    """FLOPs of one training step on ``batch_size`` samples.

    ``6 * batch * n_in * n_out`` per dense layer (the forward product, the weight gradient
    and the input gradient, each ``2 * batch * n_in * n_out``), less the first layer's input
    gradient, which training never computes.
    """
    dims = [int(n) for n in layer_dims]
    pairs = sum(n_in * n_out for n_in, n_out in zip(dims[:-1], dims[1:]))
    return 6 * batch_size * pairs - 2 * batch_size * dims[0] * dims[1]


def auto_threshold_gflop() -> float:
    """The threshold in force: ``XPNET_AUTO_GPU_GFLOP`` when set, else :data:`AUTO_GPU_MIN_GFLOP`."""
    text = os.environ.get(THRESHOLD_ENV_VAR, "").strip()
    if not text:
        return AUTO_GPU_MIN_GFLOP
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"environment variable {THRESHOLD_ENV_VAR}={text!r}: expected a number "
                         f"of GFLOP >= 0, such as {AUTO_GPU_MIN_GFLOP}")
    return value


@dataclass(frozen=True)
class AutoChoice:
    """Where ``"auto"`` runs a training run, and why; ``str()`` says it in one line."""

    backend: str  # "numpy" or "cupy"
    gflop: float  # FLOPs of one step, in 1e9
    threshold: float  # the threshold it was weighed against, GFLOP
    reason: str

    def __str__(self) -> str:
        return f"auto chose {self.backend}: {self.reason}"


def choose_backend(layer_dims: Sequence[int], batch_size: int) -> AutoChoice:
    """Where ``"auto"`` runs a network of ``layer_dims`` trained on batches of ``batch_size``."""
    gflop = step_flops(layer_dims, batch_size) / 1e9
    threshold = auto_threshold_gflop()
    problem = backend._cupy_problem()
    if problem is not None:
        return AutoChoice("numpy", gflop, threshold, f"no usable GPU ({problem.split(';')[0]})")
    if gflop < threshold:
        return AutoChoice("numpy", gflop, threshold,
                          f"{gflop:.3g} GFLOP per step < threshold {threshold:g} GFLOP (below it "
                          f"a GPU step, about {GPU_STEP_FLOOR_MS} ms to launch, is no faster)")
    return AutoChoice("cupy", gflop, threshold,
                      f"{gflop:.3g} GFLOP per step >= threshold {threshold:g} GFLOP")


def resolve_for_work(requested: Backend | None, layer_dims: Sequence[int],
                     batch_size: int) -> tuple[ModuleType, AutoChoice | None]:
    """The namespace for ``requested`` (None: the selected backend), weighing the work per
    step where ``"auto"`` is asked for; the choice made, or None where there was none."""
    if not wants_auto(requested):
        return (backend.get_backend() if requested is None else resolve_backend(requested)), None
    choice = choose_backend(layer_dims, batch_size)
    return resolve_backend(choice.backend), choice


def describe_rule() -> str:
    """The rule ``"auto"`` follows here, in one line (``xpnet info``)."""
    return (f"auto: the GPU (cupy) when one is usable and a training step is at least "
            f"{auto_threshold_gflop():g} GFLOP ({THRESHOLD_ENV_VAR} to change; default "
            f"{AUTO_GPU_MIN_GFLOP:g}), else numpy")
