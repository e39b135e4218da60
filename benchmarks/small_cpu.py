"""The small network on the CPU: xpnet against hand-written NumPy, interleaved, many rounds.

    python -m benchmarks.small_cpu [--rounds 31] [--dtype float32 float64] [--out FILE.md]
                                   [--note TEXT]

``[784, 128, 64, 10]``, batch 256, relu and softmax, SGD. Two pairs: xpnet's public step
(``forward_prop``, ``backprop(..., input_gradient=False)``, ``update_parameters``) against a
hand-written NumPy step, and ``fit`` (32 epochs of 8 shuffled mini-batches per call, its
set-up spread over them as in the suite) against a hand-written NumPy loop that shuffles,
gathers and records the same way. In each round every contender runs one block of calls,
xpnet and its reference next to each other, the order reversed every other round, so a
ratio compares the same machine state; the figure is the median over the rounds of each
round's ratio (the ratio of the median times beside it). Run it as
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.small_cpu`` where the
environment pins OpenBLAS to an older kernel; the BLAS that ran is in the table.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import time
from collections.abc import Callable

from . import steps
from .run import environment
from .suite import CONFIGS, FIT_BATCHES, fit_epochs

STEP_CALLS = 20  # public steps per block: about 30-50 ms on two cores
PAIRS = ("step", "fit")


def contenders(dtype: str) -> dict[str, dict[str, Callable[[], None]]]:
    """pair -> {"xpnet": call, "numpy": call}, each call one timed block's work unit."""
    dims, batch = CONFIGS["small"]
    epochs = fit_epochs(dims, batch)
    return {
        "step": {"xpnet": steps.xpnet_public_step(dims, batch, dtype, "numpy")[0],
                 "numpy": steps.numpy_step(dims, batch, dtype)[0]},
        "fit": {"xpnet": steps.xpnet_fit_step(dims, batch, dtype, "numpy", epochs=epochs)[0],
                "numpy": steps.numpy_loop(dims, batch, dtype, epochs=epochs)[0]},
    }


def _block_seconds_per_step(call: Callable[[], None], pair: str) -> float:
    dims, batch = CONFIGS["small"]
    calls = STEP_CALLS if pair == "step" else 1
    start = time.perf_counter()
    for _ in range(calls):
        call()
    seconds = time.perf_counter() - start
    return seconds / (calls if pair == "step" else fit_epochs(dims, batch) * FIT_BATCHES)


def measure(dtype: str, rounds: int) -> dict[str, dict[str, list[float]]]:
    """pair -> contender -> seconds per step, one value per round."""
    calls = contenders(dtype)
    times: dict[str, dict[str, list[float]]] = {p: {"xpnet": [], "numpy": []} for p in PAIRS}
    for pair in PAIRS:  # warm-up: caches, allocator, BLAS threads
        for call in calls[pair].values():
            call()
    for r in range(rounds):
        for pair in PAIRS:
            order = ("xpnet", "numpy") if r % 2 == 0 else ("numpy", "xpnet")
            for who in order:
                times[pair][who].append(_block_seconds_per_step(calls[pair][who], pair))
        print(f"{dtype} round {r + 1}/{rounds}: " + ", ".join(
            f"{pair} {times[pair]['xpnet'][-1] / times[pair]['numpy'][-1]:.3f}x" for pair in PAIRS),
            file=sys.stderr, flush=True)
    return times


def summary(times: dict[str, list[float]]) -> tuple[float, float, float, float]:
    """(xpnet ms, numpy ms, median of the rounds' ratios, ratio of the medians)."""
    ratios = [x / n for x, n in zip(times["xpnet"], times["numpy"])]
    x, n = statistics.median(times["xpnet"]), statistics.median(times["numpy"])
    return x * 1e3, n * 1e3, statistics.median(ratios), x / n


def report(results: dict[str, dict[str, dict[str, list[float]]]], rounds: int, note: str,
           load: tuple[tuple[float, ...], tuple[float, ...]]) -> str:
    env = environment()
    blas = "; ".join(f"{p['internal_api']} {p['version']}, kernel {p['architecture']}, "
                     f"{p['num_threads']} threads" for p in env["blas"])
    dims, batch = CONFIGS["small"]
    lines = [
        "# Small network on the CPU: xpnet against hand-written NumPy",
        "",
        f"- Date: {env['date']}; {env['platform']}; {env['cpu_count']} CPUs",
        f"- xpnet {env['xpnet']} (source {env['source']}), NumPy {env['numpy']}, "
        f"Python {env['python']}",
        f"- BLAS that ran (threadpoolctl): {blas}",
        f"- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: {env['openblas_env']}",
        f"- Load average before / after: {', '.join(f'{v:.2f}' for v in load[0])} / "
        f"{', '.join(f'{v:.2f}' for v in load[1])}",
    ]
    if note:
        lines.append(f"- {note}")
    lines += [
        "",
        f"Network {dims}, batch {batch}, relu hidden layers, softmax output, SGD. {rounds} rounds; "
        f"in each, every contender runs one block (the public step {STEP_CALLS} times; `fit` one "
        f"call of {fit_epochs(dims, batch)} epochs x {FIT_BATCHES} mini-batches), xpnet and its "
        "reference side by side, the order reversed every other round. `ratio` is the median "
        "over the rounds of xpnet's time over the reference's in the same round; `ratio of "
        "medians` divides the median times.",
        "",
        "| dtype | pair | xpnet ms/step | NumPy ms/step | ratio (median of rounds) | "
        "ratio of medians | goal <= 1.05x |",
        "|---|---|---|---|---|---|---|",
    ]
    names = {"step": "public step vs NumPy step", "fit": "`fit` vs NumPy loop"}
    for dtype, by_pair in results.items():
        for pair in PAIRS:
            x, n, ratio, of_medians = summary(by_pair[pair])
            lines.append(f"| {dtype} | {names[pair]} | {x:.3f} | {n:.3f} | {ratio:.3f}x | "
                         f"{of_medians:.3f}x | {'met' if ratio <= 1.05 else 'not met'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.small_cpu",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--dtype", nargs="+", default=["float32", "float64"],
                        choices=["float32", "float64"])
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="write the Markdown table here too (else only printed)")
    parser.add_argument("--note", default="", help="a line for the table, e.g. the machine was shared")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    before = os.getloadavg()
    results = {dtype: measure(dtype, args.rounds) for dtype in args.dtype}
    text = report(results, args.rounds, args.note, (before, os.getloadavg()))
    print(text)
    if args.out is not None:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
