"""Median time per training step of the installed xpnet, through its public API only.

    python benchmarks/step_time.py --label NAME [--config small medium] [--out FILE]
    python benchmarks/step_time.py --summarize FILE

Times the public step (``forward_prop``, ``backprop``, ``update_parameters``) and ``fit``
(8 shuffled mini-batches per epoch) on the suite's networks, and appends one JSON line per
figure to ``FILE``. Only public names are used, so the same script measures any revision:
run it alternately against two checkouts (``PYTHONPATH=checkout``) and ``--summarize``
gives each figure's median and the ratio of the medians. It imports nothing from the
benchmarks package (whose modules follow the revision's internals), so run it by path.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time

import numpy as np

# The suite's networks (benchmarks/suite.py CONFIGS; a test keeps the two equal).
CONFIGS = {"small": ([784, 128, 64, 10], 256), "medium": ([784, 1024, 1024, 10], 512)}
DTYPES = ("float32", "float64")


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _median_step_seconds(step, calls: int, repeat: int = 5, clock=time.perf_counter) -> float:
    step()
    samples = []
    for _ in range(repeat):
        start = clock()
        for _ in range(calls):
            step()
        samples.append((clock() - start) / calls)
    return statistics.median(samples)


def measure(config: str, dtype: str, clock=time.perf_counter) -> dict[str, float]:
    """Seconds per step of the public step and of fit, for one network and dtype, by ``clock``."""
    import xpnet

    dims, batch = CONFIGS[config]
    rng = np.random.RandomState(0)
    X = rng.randn(dims[0], batch * 8).astype(dtype)
    Y = np.eye(dims[-1], dtype=dtype)[:, rng.randint(dims[-1], size=batch * 8)]
    params = xpnet.init_params(dims, seed=0, scale="he", dtype=dtype, backend="numpy")
    net = {"hidden": "relu", "output": "softmax"}
    Xb, Yb = X[:, :batch], Y[:, :batch]

    def public_step():
        AL, caches = xpnet.forward_prop(Xb, params, **net)
        grads = xpnet.backprop(AL, Yb, caches, input_gradient=False)
        xpnet.update_parameters(params, grads, 1e-4)

    def fit_epochs():  # 4 epochs of 8 batches, with fit's optimizer and scale given
        xpnet.fit(X, Y, dims, epochs=4, lr=1e-4, batch_size=batch, params=params, verbose=0,
                  optimizer="sgd", scale="he", **net)

    calls = max(1, int(0.3 / max(_median_step_seconds(public_step, 1, 1), 1e-6)))
    return {"step": _median_step_seconds(public_step, calls, clock=clock),
            "fit": _median_step_seconds(fit_epochs, max(1, calls // 32), clock=clock) / 32}


def summarize(path: pathlib.Path) -> str:
    """A Markdown table: each label's median seconds per step and the ratio to the first label."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    labels = list(dict.fromkeys(row["label"] for row in rows))
    figures = list(dict.fromkeys((row["config"], row["dtype"], row["part"]) for row in rows))
    lines = [f"| config | dtype | part | {' | '.join(f'{label} ms/step' for label in labels)} | "
             f"{' | '.join(f'{label} / {labels[0]}' for label in labels[1:])} |",
             "|" + "---|" * (3 + 2 * len(labels) - 1)]
    for config, dtype, part in figures:
        runs = {label: [row["seconds"] for row in rows if row["label"] == label and
                        (row["config"], row["dtype"], row["part"]) == (config, dtype, part)]
                for label in labels}
        medians = {label: statistics.median(values) for label, values in runs.items() if values}
        base = medians[labels[0]]
        ratios = [f"{medians[label] / base:.3f}x ({len(runs[label])} runs)" for label in labels[1:]]
        lines.append(f"| {config} | {dtype} | {part} | "
                     f"{' | '.join(f'{medians[label] * 1e3:.3f}' for label in labels)} | "
                     f"{' | '.join(ratios)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/step_time.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", help="name of the revision measured (required unless --summarize)")
    parser.add_argument("--config", nargs="+", default=["small"], choices=sorted(CONFIGS))
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("step_time.jsonl"))
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time, or this process's CPU time (steadier on a busy machine; "
                             "with one BLAS thread, OMP_NUM_THREADS=1)")
    parser.add_argument("--summarize", type=pathlib.Path, metavar="FILE")
    args = parser.parse_args(argv)
    if args.summarize is not None:
        print(summarize(args.summarize))
        return 0
    if not args.label:
        parser.error("--label is required to measure")
    with open(args.out, "a") as out:
        for config in args.config:
            for dtype in DTYPES:
                for part, seconds in measure(config, dtype, CLOCKS[args.clock]).items():
                    out.write(json.dumps({"label": args.label, "config": config, "dtype": dtype,
                                          "part": part, "seconds": seconds}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
