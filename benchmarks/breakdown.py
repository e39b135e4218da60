"""Where a training step's time goes: each phase of xpnet's step and of PyTorch's, and each
of the step's matrix products and elementwise operations alone, timed the same way.

    python -m benchmarks.breakdown [--backend cupy] [--width 4096] [--batch 4096]
                                   [--dtype float32] [--repeat 20] [--out DIR] [--name NAME]

The network is ``[1024, W, W, 10]`` (relu, softmax), as in the GPU sweep. Every figure is
the median over ``--repeat`` calls, each between two waits for the device. Products are
timed with the operand layouts each library's step uses: xpnet keeps samples as columns
(``W @ A``), PyTorch as rows (``X @ W.T``). On a GPU it also times whole ``fit`` calls per
step, with epochs of 8 and of 64 mini-batches (as many steps in both), so that the cost
paid once per epoch (shuffle, metrics read-back, the weights' host copy) shows apart from
the cost of a step. Writes ``NAME.json`` and ``NAME.md``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import xpnet
from xpnet.activations import get_activation
from xpnet.kernels import bias_relu_into
from xpnet.outputs import OUTPUTS
from xpnet.training.optimizers import SGD
from xpnet.training.step import backward_and_update

from . import steps, suite


def median_seconds(call: Callable[[], Any], sync: Callable[[], None], repeat: int) -> float:
    """Median seconds of ``call()`` over ``repeat`` timed calls after two warm-up calls."""
    for _ in range(2):
        call()
    samples = []
    for _ in range(repeat):
        sync()
        start = time.perf_counter()
        call()
        sync()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def xpnet_parts(dims: list[int], batch: int, dtype: str, backend: str
                ) -> tuple[dict[str, Callable[[], Any]], Callable[[], None]]:
    """label -> call, for xpnet's phases and one hidden layer's operations."""
    xp = xpnet.backend.resolve_backend(backend)
    X, Y = (xpnet.asarray(a, xp) for a in steps.batch_data(dims, batch, dtype))
    params = steps.initial_params(dims, dtype, xp)
    options = {"hidden": "relu", "output": "softmax"}
    AL, caches = xpnet.forward_prop(X, params, **options)
    grads = xpnet.backprop(AL, Y, caches, input_gradient=False)
    relu, hidden = get_activation("relu"), caches[1]  # the W x W layer
    dZ = xpnet.backprop(AL, Y, caches)["dA2"]  # dA2 stands in for dZ2: the same shape
    W, A, b = params["W2"], hidden.A_prev, params["b2"]
    sgd = SGD()
    rows = xp.asarray(X.T, copy=True)  # fit lays the data out by rows, one sample per row
    order = xp.asarray(np.random.RandomState(0).permutation(batch), dtype=xp.int64)
    softmax = OUTPUTS["softmax"]
    parts = {
        "step: forward_prop": lambda: xpnet.forward_prop(X, params, **options),
        "step: backprop": lambda: xpnet.backprop(AL, Y, caches, input_gradient=False),
        "step: update_parameters": lambda: xpnet.update_parameters(params, grads, 1e-9),
        # (a copy of the list each time: the step spends the caches it is given)
        "fit: backward + fused update": lambda: backward_and_update(AL, Y, list(caches), params,
                                                                   softmax, sgd, 1e-9),
        "layer 2: W @ A": lambda: W @ A,
        "layer 2: dZ @ A.T (dW)": lambda: dZ @ A.T,
        "layer 2: W.T @ dZ (dA)": lambda: W.T @ dZ,
        "layer 2: Z + b": lambda: hidden.A + b,
        "layer 2: relu": lambda: relu.forward(hidden.A),
        "layer 2: relu backward": lambda: relu.backward(dZ, hidden.A),  # one kernel on CuPy
        "layer 2: db = sum(dZ, axis=1)": lambda: xp.sum(dZ, axis=1, keepdims=True),
        "layer 2: W - lr * dW": lambda: W - 1e-9 * grads["dW2"],
        "fit: gather a batch (rows, shuffled)": lambda: xp.take(rows, order, axis=0).T,
        "fit: loss and hits of a batch": lambda: (softmax.cost(AL, Y), softmax.correct_count(AL, Y)),
    }
    Z = W @ A
    if bias_relu_into(Z, b):  # the backend has the one-pass kernel that forward_prop uses
        parts["layer 2: Z + b and relu, one kernel"] = lambda: bias_relu_into(Z, b)
    return parts, steps._sync_for(xp)


def fit_rows(dims: list[int], batch: int, dtype: str, backend: str, repeat: int
             ) -> list[dict[str, Any]]:
    """``fit``'s time per step in calls of epochs of 8 and of 64 mini-batches, as many steps."""
    # Calls of ~0.5 s in epochs of 8 batches, rounded up to whole epochs of 64 batches.
    epochs = -(-suite.fit_epochs(dims, batch, backend) // 8) * 8
    found = []
    for per_epoch, n_epochs in ((8, epochs), (64, epochs // 8)):
        run, sync = steps.xpnet_fit_step(dims, batch, dtype, backend, per_epoch, n_epochs)
        seconds = median_seconds(run, sync, repeat) / (per_epoch * n_epochs)
        label = f"fit: per step, {n_epochs} epoch(s) of {per_epoch} batches in a call"
        found.append({"part": label, "median_ms": seconds * 1e3})
        del run
    return found


def torch_parts(dims: list[int], batch: int, dtype: str, device: str
                ) -> tuple[dict[str, Callable[[], Any]], Callable[[], None]]:
    """label -> call, for PyTorch's phases and the same hidden layer's operations."""
    import torch

    step, sync = steps.torch_step(dims, batch, dtype, device)
    kind = getattr(torch, dtype)
    X = torch.randn(batch, dims[1], dtype=kind, device=device)   # the layer's input, rows
    W = torch.randn(dims[2], dims[1], dtype=kind, device=device)
    dY = torch.randn(batch, dims[2], dtype=kind, device=device)
    b = torch.randn(dims[2], dtype=kind, device=device)
    return {
        "pytorch: whole step": step,
        "pytorch layer 2: linear (X @ W.T + b)": lambda: torch.nn.functional.linear(X, W, b),
        "pytorch layer 2: dY.T @ X (dW)": lambda: dY.T @ X,
        "pytorch layer 2: dY @ W (dX)": lambda: dY @ W,
        "pytorch layer 2: relu": lambda: torch.relu(dY),
        "pytorch layer 2: relu backward": lambda: torch.ops.aten.threshold_backward(dY, X, 0),
        "pytorch layer 2: db = dY.sum(0)": lambda: dY.sum(0),
    }, sync


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.breakdown", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--width", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path(__file__).parent / "results")
    parser.add_argument("--name", default=None, help="file stem (default: breakdown-BACKEND-W)")
    args = parser.parse_args(argv)
    dims = [1024, args.width, args.width, 10]
    groups = [xpnet_parts(dims, args.batch, args.dtype, args.backend)]
    try:
        groups.append(torch_parts(dims, args.batch, args.dtype,
                                  "cuda" if args.backend == "cupy" else "cpu"))
    except ImportError:
        print("PyTorch is not installed: its rows are left out", file=sys.stderr)
    rows = []
    for parts, sync in groups:
        for label, call in parts.items():
            seconds = median_seconds(call, sync, args.repeat)
            rows.append({"part": label, "median_ms": seconds * 1e3})
            print(f"  {label:40s} {seconds * 1e3:9.3f} ms", flush=True)
    if args.backend == "cupy":  # whole calls: seconds each on a CPU
        for row in fit_rows(dims, args.batch, args.dtype, args.backend, min(args.repeat, 5)):
            rows.append(row)
            print(f"  {row['part']:40s} {row['median_ms']:9.3f} ms", flush=True)
    stem = args.name or f"breakdown-{args.backend}-{args.width}"
    facts = {"dims": dims, "batch": args.batch, "dtype": args.dtype, "backend": args.backend,
             "repeat": args.repeat, "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(facts, indent=1) + "\n")
    lines = [f"# Where the step's time goes: {args.backend}, dims {dims}, batch {args.batch}, "
             f"{args.dtype}", "", f"Median of {args.repeat} calls, each between two waits for "
             "the device. Layer 2 is the W x W layer.", "", "| part | ms |", "|---|---|",
             *(f"| {row['part']} | {row['median_ms']:.3f} |" for row in rows)]
    (args.out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
