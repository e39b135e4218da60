"""Backend parity: the same network, trained from the same start on every backend, against NumPy.

    python -m benchmarks --parity [--out benchmarks/results]

The initial weights are drawn once on the host (NumPy's RandomState) and converted to each
backend; the data (the first 128 shipped digits) likewise, and ``fit``'s mini-batch order
is drawn on the host from its seed, so every backend starts from, and is fed, the same
numbers. Each backend trains ``fit`` (tanh hidden layers, softmax output, SGD with weight
decay, mini-batches of 32: 4 steps an epoch) in float64 and in float32; after every epoch
the weights and the epoch's loss are compared with NumPy's:

- parameters: ``max |p - p_numpy|`` over every entry of every ``W{l}``/``b{l}``, divided by
  ``max |p_numpy|``;
- loss: ``|loss - loss_numpy| / |loss_numpy|``.

A backend passes when both stay within :data:`TOLERANCES` for its dtype after
:data:`CHECKED_STEPS` steps. Writes ``parity.md`` and (with matplotlib) ``parity.png``;
backends that cannot run here are listed with the reason.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import platform
import sys
from dataclasses import dataclass, field
from typing import Any

# JAX computes in float32 unless 64-bit mode is on before it is first imported.
os.environ.setdefault("JAX_ENABLE_X64", "1")

import numpy as np

import xpnet
from xpnet.errors import BackendUnavailableError

BACKENDS = ["numpy", "array_api_strict", "torch", "jax", "cupy"]
DTYPES = ["float64", "float32"]
LAYER_DIMS = [64, 32, 16, 10]
SAMPLES, BATCH_SIZE, SEED = 128, 32, 0
STEPS_PER_EPOCH = SAMPLES // BATCH_SIZE
EPOCHS = 25
CHECKED_STEPS = 20
TOLERANCES = {"float64": 1e-12, "float32": 1e-5}
"""Relative difference allowed after :data:`CHECKED_STEPS` steps. float64: the libraries'
products sum in different orders, which moves the last bit or two (~1e-16) of a step's
numbers. float32 rounds each of them at ~6e-8, and 20 steps of SGD carry those differences
into each other; a backend that computes something else differs by far more."""


@dataclass
class Trajectory:
    """One backend's run in one dtype: after each epoch, the weights (NumPy float64 copies)
    and the epoch's loss; or why it could not run."""

    backend: str
    dtype: str
    params: list[dict[str, np.ndarray]] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    skipped: str | None = None


def initial_state(seed: int = SEED) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """``(params, X, Y)`` on the host in float64: Xavier-scaled weights from ``seed``, biases
    zero, and the first :data:`SAMPLES` digits."""
    params = xpnet.init_params(LAYER_DIMS, seed=seed, scale="xavier", backend="numpy")
    X, Y = xpnet.datasets.load_digits()
    return {k: np.array(v, copy=True) for k, v in params.items()}, X[:, :SAMPLES], Y[:, :SAMPLES]


def train(backend: str, dtype: str, epochs: int = EPOCHS) -> Trajectory:
    """``fit`` on ``backend`` in ``dtype`` from :func:`initial_state`, recorded every epoch."""
    trajectory = Trajectory(backend, dtype)
    host_params, X, Y = initial_state()
    try:
        params = {k: xpnet.asarray(v, backend, dtype) for k, v in host_params.items()}
    except (BackendUnavailableError, ValueError) as exc:  # not installed, no device, no float64
        trajectory.skipped = str(exc)
        return trajectory
    trajectory.params.append(_host(params))

    def record(epoch: int, logs: Any, params: Any) -> None:
        trajectory.params.append(_host(params))
        trajectory.losses.append(logs["loss"])

    xpnet.fit(X, Y, LAYER_DIMS, params=params, epochs=epochs, lr=0.5, batch_size=BATCH_SIZE,
              weight_decay=1e-3, hidden="tanh", output="softmax", seed=SEED, dtype=dtype,
              backend=backend, callbacks=[record], verbose=0)
    return trajectory


def _host(params: Any) -> dict[str, np.ndarray]:
    return {k: np.array(xpnet.to_numpy(v), dtype=np.float64, copy=True) for k, v in params.items()}


def differences(run: Trajectory, reference: Trajectory) -> dict[str, list[float]]:
    """Per epoch (the start first), the relative differences of ``run``'s parameters and, from
    the first epoch on, of its losses from ``reference``'s (see the module)."""
    params = []
    for mine, theirs in zip(run.params, reference.params):
        largest = max(float(np.max(np.abs(v))) for v in theirs.values())
        params.append(max(float(np.max(np.abs(mine[k] - theirs[k]))) for k in theirs) / largest)
    losses = [abs(a - b) / abs(b) for a, b in zip(run.losses, reference.losses)]
    return {"params": params, "loss": losses}


def verdict(diffs: dict[str, list[float]], dtype: str, steps: int = CHECKED_STEPS) -> bool:
    """Whether the differences after ``steps`` steps (and every epoch before) are within the
    dtype's tolerance."""
    epochs = steps // STEPS_PER_EPOCH
    worst = max(diffs["params"][:epochs + 1] + diffs["loss"][:epochs])
    return worst <= TOLERANCES[dtype]


def compare(backends: list[str] = BACKENDS, dtypes: list[str] = DTYPES,
            epochs: int = EPOCHS) -> list[dict[str, Any]]:
    """Each backend's run in each dtype against NumPy's: a row with its differences per
    epoch and whether it passed, or the reason it was skipped."""
    rows = []
    for dtype in dtypes:
        reference = train("numpy", dtype, epochs)
        for backend in backends:
            if backend == "numpy":
                continue
            run = train(backend, dtype, epochs)
            if run.skipped:
                rows.append({"backend": backend, "dtype": dtype, "skipped": run.skipped})
                continue
            diffs = differences(run, reference)
            rows.append({"backend": backend, "dtype": dtype, **diffs,
                         "passed": verdict(diffs, dtype)})
    return rows


def markdown(rows: list[dict[str, Any]], epochs: int, source: str | None) -> str:
    """The report: the set-up, a summary per backend and dtype, and the differences per epoch."""
    checked = CHECKED_STEPS // STEPS_PER_EPOCH
    lines = ["# Backend parity: the same training on every backend, against NumPy", "",
             f"`python -m benchmarks --parity`: `fit` of a {LAYER_DIMS} network (tanh, softmax "
             f"output, SGD lr 0.5, weight decay 1e-3) on the first {SAMPLES} shipped digits in "
             f"mini-batches of {BATCH_SIZE} ({STEPS_PER_EPOCH} steps an epoch), {epochs} epochs, "
             "from the same initial weights (drawn on the host, converted to each backend).", "",
             *_versions(source), "",
             "Parameters: max |p - p_numpy| / max |p_numpy| over all weights and biases; loss: "
             "|loss - loss_numpy| / |loss_numpy| of the epoch's loss (`fit`'s: the mean of its "
             "mini-batches' losses). A backend passes when both "
             f"stay within the tolerance for {CHECKED_STEPS} steps (epoch {checked}): "
             + ", ".join(f"{d} {t:.0e}" for d, t in TOLERANCES.items()) + ".", "",
             f"| backend | dtype | parameters after {CHECKED_STEPS} steps | loss after {CHECKED_STEPS} steps | "
             f"parameters, largest in {epochs} epochs | loss, largest | tolerance | result |",
             "|---|---|---|---|---|---|---|---|"]
    ran = [row for row in rows if "skipped" not in row]
    for row in ran:
        lines.append(f"| {row['backend']} | {row['dtype']} | {row['params'][checked]:.1e} | "
                     f"{row['loss'][checked - 1]:.1e} | {max(row['params']):.1e} | "
                     f"{max(row['loss']):.1e} | {TOLERANCES[row['dtype']]:.0e} | "
                     f"{'pass' if row['passed'] else '**FAIL**'} |")
    skipped = {row["backend"]: row["skipped"] for row in rows if "skipped" in row}
    if skipped:
        lines += ["", "Not run here:", "", *(f"- {name}: {why}" for name, why in skipped.items())]
    if ran:
        lines += ["", "Per epoch (0: the converted initial weights), parameters / loss:", "",
                  "| epoch | " + " | ".join(f"{r['backend']} {r['dtype']}" for r in ran) + " |",
                  "|---|" + "---|" * len(ran)]
        for epoch in range(epochs + 1):
            cells = [f"{r['params'][epoch]:.1e} / "
                     + (f"{r['loss'][epoch - 1]:.1e}" if epoch else "-") for r in ran]
            lines.append(f"| {epoch} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _versions(source: str | None) -> list[str]:
    found = [f"numpy {np.__version__}"]
    for package in ("array_api_strict", "torch", "jax", "cupy"):
        module = sys.modules.get(package)
        if module is not None:
            found.append(f"{package} {module.__version__}")
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return [f"- Date: {date}; {platform.platform()}; {platform.processor() or platform.machine()}",
            f"- xpnet {xpnet.__version__}; {', '.join(found)}",
            *([f"- Source: {source}"] if source else [])]


def plot(rows: list[dict[str, Any]], path: pathlib.Path) -> pathlib.Path:
    """Differences per epoch, log scale; a difference of exactly 0 is drawn at 1e-17."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for row in rows:
        if "skipped" in row:
            continue
        style = "-" if row["dtype"] == "float64" else "--"
        label = f"{row['backend']} {row['dtype']}"
        axes[0].plot(range(len(row["params"])), np.maximum(row["params"], 1e-17), style, label=label)
        axes[1].plot(range(1, len(row["loss"]) + 1), np.maximum(row["loss"], 1e-17), style,
                     label=label)
    for axis, what in zip(axes, ("parameters", "loss")):
        for dtype, tolerance in TOLERANCES.items():
            axis.axhline(tolerance, color="grey", linestyle="-" if dtype == "float64" else "--",
                         linewidth=0.8)
            axis.annotate(f"{dtype} tolerance", (0, tolerance), fontsize=7, color="grey",
                          xytext=(2, 2), textcoords="offset points")
        axis.set_yscale("log")
        axis.set_xlabel(f"epoch ({STEPS_PER_EPOCH} steps)")
        axis.set_title(f"{what}: relative difference from NumPy")
        axis.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("relative difference (0 drawn at 1e-17)")
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def run(out: pathlib.Path, source: str | None = None, epochs: int = EPOCHS) -> int:
    """Compare every backend, write ``parity.md`` (and ``parity.png``) into ``out``; 1 if a
    backend fails its tolerance."""
    rows = compare(epochs=epochs)
    checked = CHECKED_STEPS // STEPS_PER_EPOCH
    for row in rows:
        if "skipped" in row:
            result = f"skipped: {row['skipped']}"
        else:
            result = (f"after {CHECKED_STEPS} steps: parameters {row['params'][checked]:.1e}, loss "
                      f"{row['loss'][checked - 1]:.1e}: {'pass' if row['passed'] else 'FAIL'}")
        print(f"  {row['backend']:17s} {row['dtype']:8s} {result}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "parity.md"]
    written[0].write_text(markdown(rows, epochs, source))
    try:
        written.append(plot(rows, out / "parity.png"))
    except ImportError:
        print("matplotlib is not installed: no plot written")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0 if all(row.get("passed", True) for row in rows) else 1
