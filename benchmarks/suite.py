"""What the suite measures: the configurations, the FLOP count of a step, and the contenders.

Shared by the timing run (``run.py``) and the memory runs (``memory.py``), each contender
being made the same way for both.
"""

from __future__ import annotations

from collections.abc import Callable

from xpnet.workload import step_flops

from . import steps

CONFIGS: dict[str, tuple[list[int], int]] = {
    "small": ([784, 128, 64, 10], 256),
    "medium": ([784, 1024, 1024, 10], 512),
    "wide": ([4096, 4096, 4096, 10], 1024),
}
QUICK_CONFIGS = {"tiny": ([64, 32, 32, 10], 64)}
FIT_BATCHES = 8


def flops_per_step(dims: list[int], batch: int) -> float:
    """Multiply-adds x 2 of one step; the gradient with respect to the input is not computed
    (the count ``backend="auto"`` weighs, :func:`xpnet.workload.step_flops`)."""
    return float(step_flops(dims, batch))


GPU_FLOPS = 2e13
"""A floor under a GPU's float32 speed (FLOP/s), to size ``fit`` calls on a GPU."""


def fit_epochs(dims: list[int], batch: int, backend: str = "numpy") -> int:
    """Epochs per timed ``fit`` call: enough steps to spread its set-up (checking the data and
    laying it out by rows, once per call) as a real run of many epochs does, at most ~10 s a call.

    On a GPU a step is hundreds of times faster: one epoch of the 8 batches can take 10 ms,
    which would charge a whole run's set-up to 8 steps; there the call is made to last about
    half a second (at least one epoch, at most 32).
    """
    flops = flops_per_step(dims, batch)
    if backend == "cupy":
        return max(1, min(32, int(0.5 * GPU_FLOPS / (FIT_BATCHES * flops))))
    return 32 if flops < 1e9 else 8 if flops < 1e10 else 1


OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "adam": 2}
"""The optimizers the widest-network sweep compares, and the weight-sized arrays each keeps."""


def contenders(backend: str, torch_device: str | None, with_sklearn: bool,
               loop_batches: int = FIT_BATCHES, optimizer: str = "sgd",
               restore_on_nan: bool = True) -> dict[str, Callable]:
    """label -> factory ``(dims, batch, dtype) -> (step, sync)``.

    ``loop_batches``: mini-batches of data the two training loops get per epoch; the timings
    spread the loops' set-up over 8, the memory runs give them the one batch every other
    contender holds. ``optimizer`` other than ``"sgd"`` (see :data:`OPTIMIZER_SLOTS`) leaves
    only the contenders that take one: xpnet's ``fit`` and PyTorch. ``restore_on_nan`` is
    passed to ``fit``.
    """
    found = {
        f"xpnet[{backend}] step": lambda d, b, t: steps.xpnet_public_step(d, b, t, backend),
        f"xpnet[{backend}] fit": lambda d, b, t: steps.xpnet_fit_step(
            d, b, t, backend, loop_batches, fit_epochs(d, b, backend), optimizer, restore_on_nan),
    }
    if backend == "numpy":
        found["numpy (hand-written)"] = lambda d, b, t: steps.numpy_step(d, b, t)
        found["numpy loop (hand-written)"] = lambda d, b, t: steps.numpy_loop(
            d, b, t, loop_batches, fit_epochs(d, b))
    if torch_device is not None:
        found[f"pytorch[{torch_device}]"] = lambda d, b, t: steps.torch_step(d, b, t, torch_device,
                                                                             optimizer)
    if optimizer != "sgd":
        return {label: make for label, make in found.items()
                if label.endswith(" fit") or label.startswith("pytorch")}
    if with_sklearn and backend == "numpy":
        found["scikit-learn"] = lambda d, b, t: steps.sklearn_step(d, b, t)
    return found
