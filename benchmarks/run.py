"""Time one training step of the same network on xpnet and its references, side by side.

    python -m benchmarks [--backend numpy cupy] [--config small medium wide] [--dtype float32]
                         [--repeat 7] [--quick] [--no-memory] [--out benchmarks/results] [--name cpu]
    python -m benchmarks --parity [--out benchmarks/results]

Writes ``NAME.json``, ``NAME.md`` and ``NAME.png`` into ``--out``. After the timings, each
contender's peak memory is measured for each config and dtype in a fresh process of its own
(``benchmarks/memory.py``; skipped with ``--quick`` or ``--no-memory``) and set beside the
theoretical minimum. On a GPU, ``--config widest`` (part of the default) finds the widest
``[1024, W, W, 10]`` network, batch 4096, that trains one step, doubling W until the device
runs out of memory and then bisecting; ``--widest-optimizers sgd momentum adam`` repeats that
sweep for xpnet's ``fit`` and PyTorch with each optimizer (default: plain SGD only), and
``--widest-start W`` starts the doubling at W. ``--tf32`` times everything (xpnet, PyTorch
and the GEMM peak) inside ``xpnet.allow_tf32()``: float32 products on TF32 tensor cores.
Stopped with Ctrl-C, it writes what it measured. ``--parity`` times nothing: it trains the
same network on every backend and writes how far each strays from NumPy
(``benchmarks/parity.py``). ``--distributed`` runs the scaling benchmark of several
processes instead (``benchmarks/distributed.py``, which takes its own options).

FLOPs per step are counted as ``6 * batch * n_in * n_out`` per dense layer (forward 2,
weight gradient 2, input gradient 2), less the first layer's input gradient, which no
contender computes: ``4 * batch * n_0 * n_1`` for the first layer. The same count for
every contender.
"""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import xpnet

from . import memory, report, steps
from .suite import (CONFIGS, FIT_BATCHES, OPTIMIZER_SLOTS, QUICK_CONFIGS, contenders, fit_epochs,
                    flops_per_step)

GPU_WIDTHS = [1024, 2048, 4096, 8192, 16384]
GPU_BATCH = 4096


def _calibrate(step: Callable[[], None], sync: Callable[[], None], target_seconds: float) -> int:
    """Warm up, then how many calls make one timed sample last about ``target_seconds``."""
    for _ in range(2):
        step()
    sync()
    start = time.perf_counter()
    step()
    sync()
    return max(1, min(1000, int(target_seconds / max(time.perf_counter() - start, 1e-6))))


def measure_together(contestants: dict[str, tuple[Callable, Callable, int]], repeat: int,
                     target_seconds: float = 0.25) -> dict[str, dict[str, Any]]:
    """Seconds per step of each contestant ``(step, sync, steps_per_call)``, sampled in turn.

    Each repeat times every contestant once, one after the other, so a ratio taken
    repeat by repeat compares samples that saw the same machine state.
    """
    calls = {label: _calibrate(step, sync, target_seconds)
             for label, (step, sync, _) in contestants.items()}
    samples: dict[str, list[float]] = {label: [] for label in contestants}
    for _ in range(repeat):
        for label, (step, sync, per_call) in contestants.items():
            start = time.perf_counter()
            for _ in range(calls[label]):
                step()
            sync()
            samples[label].append((time.perf_counter() - start) / (calls[label] * per_call))
    return {label: {"median_s": statistics.median(s), "min_s": min(s), "max_s": max(s),
                    "samples_s": s, "calls_per_sample": calls[label]}
            for label, s in samples.items()}


def run_config(name: str, dims: list[int], batch: int, dtype: str, backend: str, repeat: int,
               gemm_n: int, torch_device: str | None, with_sklearn: bool) -> dict[str, Any]:
    _release_device_cache(backend)
    # The GEMM peaks are sampled in turn with the contenders, so that a contender's share
    # of the peak compares samples that saw the same state of a shared machine.
    gemms = {"gemm": (*steps.gemm_peak(gemm_n, dtype, backend), 1)}
    torch_gemm_error = None
    if torch_device is not None:
        try:  # PyTorch without CUDA on a GPU machine, say: its step records the same error
            gemms["torch gemm"] = (*steps.torch_gemm_peak(gemm_n, dtype, torch_device), 1)
        except Exception as exc:
            torch_gemm_error = f"{type(exc).__name__}: {exc}"[:300]
    flops = flops_per_step(dims, batch)
    results, contestants = {}, dict(gemms)
    for label, make in contenders(backend, torch_device, with_sklearn).items():
        try:
            step, sync = make(dims, batch, dtype)
            loop = label.endswith(" fit") or label.startswith("numpy loop")
            per_call = FIT_BATCHES * fit_epochs(dims, batch, backend) if loop else 1
            contestants[label] = (step, sync, per_call)
        except Exception as exc:  # out of memory on the GPU, a missing package: record it
            results[label] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    timings = measure_together(contestants, repeat)
    peaks = {label: 2 * gemm_n**3 / timings.pop(label)["median_s"] / 1e9 for label in gemms}
    peak_gflops = peaks["gemm"]
    for label, timing in timings.items():
        timing["gflops"] = flops / timing["median_s"] / 1e9
        timing["samples_per_s"] = batch / timing["median_s"]
        timing["fraction_of_peak"] = timing["gflops"] / peak_gflops
        results[label] = timing
        print(f"  {name:8s} {dtype:8s} {label:24s} {timing['median_s'] * 1e3:9.3f} ms/step "
              f"{timing['gflops']:9.1f} GFLOP/s ({timing['fraction_of_peak']:.0%} of peak)", flush=True)
    return {"config": name, "dims": dims, "batch": batch, "dtype": dtype, "backend": backend,
            "flops_per_step": flops, "gemm_n": gemm_n, "gemm_peak_gflops": peak_gflops,
            "torch_gemm_peak_gflops": peaks.get("torch gemm"), "torch_gemm_error": torch_gemm_error,
            "minimum_bytes": memory.minimum_bytes(dims, batch, np.dtype(dtype).itemsize),
            "results": results}


def measure_memory(row: dict[str, Any]) -> None:
    """Each contender's peak memory for the row's config and dtype, in a process of its own,
    into ``row["memory"]`` (label -> what ``benchmarks.memory`` reports)."""
    _release_device_cache(row["backend"])  # what this process keeps cached, a child can't use
    row["memory"] = {}
    for label, timing in row["results"].items():
        if "error" in timing:
            continue
        found = memory.measure_in_subprocess(label, row["dims"], row["batch"], row["dtype"],
                                             row["backend"])
        row["memory"][label] = found
        peak = found.get("peak_bytes")
        shown = f"{peak / 2**20:9.1f} MB peak" if peak is not None else \
            ("out of memory" if found.get("oom") else found.get("error", "?"))
        print(f"  {row['config']:8s} {row['dtype']:8s} {label:24s} {shown} "
              f"(minimum {row['minimum_bytes'] / 2**20:.1f} MB)", flush=True)


def sweep_widest(label: str, backend: str, dtype: str, optimizer: str = "sgd",
                 start: int = 1024, batch: int = GPU_BATCH) -> dict[str, Any]:
    """The widest ``[1024, W, W, 10]`` that ``label`` trains one step of with ``optimizer``,
    each try in a fresh process, and its peak memory; see :func:`memory.widest` for the search."""
    tried: dict[int, dict[str, Any]] = {}
    facts = {"contender": label, "backend": backend, "dtype": dtype, "optimizer": optimizer,
             "batch": batch}

    def trains(width: int) -> bool:
        # fit without its host copies of the weights: the host, not the device, would
        # bound the width (the weights of the widest networks do not fit the host twice).
        found = memory.measure_in_subprocess(label, [1024, width, width, 10], batch, dtype,
                                             backend, calls=1, optimizer=optimizer,
                                             restore_on_nan=False)
        if "oom" not in found:  # failed for another reason than memory: stop the sweep
            raise RuntimeError(f"{label} at W={width}: {found.get('error')}")
        tried[width] = found
        print(f"  widest   {dtype:8s} {label:24s} {optimizer:8s} W={width:6d} "
              f"{'out of memory' if found['oom'] else 'trains'}", flush=True)
        return not found["oom"]

    _release_device_cache(backend)
    try:
        width = memory.widest(trains, start=start)
    except RuntimeError as exc:
        return {**facts, "error": str(exc)[:300]}
    dims = [1024, width, width, 10]
    return {**facts, "widest": width, "peak_bytes": tried.get(width, {}).get("peak_bytes"),
            "memory": tried.get(width, {}).get("memory"),
            "minimum_bytes": memory.minimum_bytes(dims, batch, np.dtype(dtype).itemsize,
                                                  OPTIMIZER_SLOTS[optimizer]),
            "tried": [{"width": w, "trains": not t["oom"], "peak_bytes": t["peak_bytes"]}
                      for w, t in sorted(tried.items())]}


def _release_device_cache(backend: str) -> None:
    """Give blocks cached by this process's device allocators back to the device."""
    if backend != "cupy":
        return
    import gc

    import cupy

    gc.collect()
    cupy.get_default_memory_pool().free_all_blocks()
    if "torch" in sys.modules and sys.modules["torch"].cuda.is_available():
        sys.modules["torch"].cuda.empty_cache()


def environment() -> dict[str, Any]:
    from threadpoolctl import threadpool_info

    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0], "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
        "xpnet": xpnet.__version__, "numpy": np.__version__,
        "blas": [{k: pool.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                 for pool in threadpool_info()],
        "openblas_env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
        "gpu": xpnet.gpu_available(), "source": _source_revision(),
    }
    for package in ("torch", "sklearn"):
        try:
            info[package] = __import__(package).__version__
        except ImportError:
            info[package] = None
    if info["gpu"]:
        info.update(_gpu_facts())
    return info


def _source_revision() -> str | None:
    """The git commit of the checkout that ran, with ``+changes`` if files differ from it."""
    import subprocess

    root = pathlib.Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=30, check=True).stdout.strip()
        changes = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                 cwd=root, capture_output=True, text=True, timeout=30,
                                 check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):  # no git, or not a checkout
        return None
    return commit + ("+changes" if changes else "")


def _gpu_facts() -> dict[str, Any]:
    """The GPU that ran, and the CuPy and CUDA versions that drove it."""
    import cupy

    properties = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    name = properties["name"]
    return {"cupy": cupy.__version__, "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
            "gpu_name": name.decode() if isinstance(name, bytes) else name,
            "gpu_memory_bytes": properties["totalGlobalMem"]}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", nargs="+", default=None,
                        help="xpnet backends to time (default: numpy, plus cupy when a GPU is usable)")
    parser.add_argument("--config", nargs="+", default=None,
                        help=f"configurations: {', '.join(CONFIGS)}, gpu-sweep, widest "
                             "(default: all that apply; the last two on a GPU only)")
    parser.add_argument("--dtype", nargs="+", default=["float32", "float64"],
                        choices=["float32", "float64"])
    parser.add_argument("--repeat", type=int, default=7, help="timed samples per figure (default: 7)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and 3 repeats, no memory runs: checks that the suite runs (CI)")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the per-contender peak-memory runs")
    parser.add_argument("--widest-optimizers", nargs="+", default=["sgd"],
                        choices=list(OPTIMIZER_SLOTS),
                        help="optimizers the widest-network sweep tries (default: sgd)")
    parser.add_argument("--widest-start", type=int, default=1024,
                        help="first width the widest-network sweep tries, a multiple of 128; it "
                             "doubles from there (default: 1024)")
    parser.add_argument("--tf32", action="store_true",
                        help="let float32 products on a GPU use TF32 (xpnet.allow_tf32), for "
                             "xpnet, PyTorch and the GEMM peak alike; memory and the widest "
                             "network are not measured")
    parser.add_argument("--parity", action="store_true",
                        help="instead of timing: train the same network on every backend and "
                             "write parity.md (and parity.png), the differences from NumPy")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path(__file__).parent / "results")
    parser.add_argument("--name", default=None, help="file name stem (default: cpu, gpu or quick)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    if args.widest_start < 128 or args.widest_start % 128:
        parser.error(f"--widest-start must be a positive multiple of 128, got {args.widest_start}")
    return args


def _backends(args: argparse.Namespace) -> list[str]:
    return args.backend or (["numpy", "cupy"] if xpnet.gpu_available() else ["numpy"])


def _plan(args: argparse.Namespace) -> list[tuple[str, list[int], int, str]]:
    """(config, dims, batch, backend) to run, in order."""
    table = QUICK_CONFIGS if args.quick else CONFIGS
    wanted = args.config or [*table, "gpu-sweep", "widest"]
    plan = []
    for backend in _backends(args):
        for name in wanted:
            if name == "widest":  # run by main, after the timings
                continue
            if name == "gpu-sweep":
                if backend == "cupy" and not args.quick:
                    plan += [(f"W={w}", [1024, w, w, 10], GPU_BATCH, backend) for w in GPU_WIDTHS]
                continue
            if name not in table:
                raise SystemExit(f"unknown --config {name!r}; choose from {', '.join(table)}, "
                                 "gpu-sweep, widest")
            plan.append((name, *table[name], backend))
    return plan


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--distributed" in argv:  # data-parallel scaling: benchmarks/distributed.py
        from .distributed import main as distributed_main

        return distributed_main([a for a in argv if a != "--distributed"])
    args = _parse(argv)
    if args.parity:
        from . import parity

        return parity.run(args.out, _source_revision())
    torch_device = _torch_device()  # imports PyTorch, so that allow_tf32 covers it too
    if not args.tf32:
        return _run(args, torch_device, ())
    with xpnet.allow_tf32() as switched:
        if "cupy" not in switched:
            raise SystemExit("--tf32: xpnet has no usable GPU here (TF32 is a CUDA GPU mode)")
        return _run(args, torch_device, switched)


def _run(args: argparse.Namespace, torch_device: str | None, tf32: tuple[str, ...]) -> int:
    repeat = 3 if args.quick else args.repeat
    with_sklearn = _importable("sklearn")
    rows: list[dict[str, Any]] = []
    widest: list[dict[str, Any]] = []
    interrupted = False
    try:
        for name, dims, batch, backend in _plan(args):
            gemm_n = 256 if args.quick else (8192 if backend == "cupy" else 2048)
            device = ("cuda" if backend == "cupy" else "cpu") if torch_device else None
            for dtype in args.dtype:
                rows.append(run_config(name, dims, batch, dtype, backend, repeat, gemm_n, device,
                                       with_sklearn))
                if not (args.quick or args.no_memory or tf32):  # fresh processes: no TF32
                    measure_memory(rows[-1])
        # The widest networks are a question of memory, tried in fresh processes without TF32.
        for backend, label, optimizer in ([] if tf32 else _widest_plan(args, torch_device)):
            for dtype in args.dtype:
                widest.append(sweep_widest(label, backend, dtype, optimizer, args.widest_start))
    except KeyboardInterrupt:  # a long run stopped by hand keeps what it measured
        interrupted = True
        print("interrupted: writing what was measured so far", file=sys.stderr, flush=True)
    results = {"environment": {**environment(), "tf32": list(tf32)}, "quick": args.quick, "interrupted": interrupted,
               "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
               "rows": rows, "widest": widest}
    stem = args.name or ("quick" if args.quick else ("gpu" if "cupy" in str(args.backend) or
                                                        xpnet.gpu_available() else "cpu"))
    written = report.write_all(results, args.out, stem)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _widest_plan(args: argparse.Namespace, torch_device: str | None) -> list[tuple[str, str, str]]:
    """(backend, contender, optimizer) to sweep to the widest network: GPU backends only."""
    if args.quick or "widest" not in (args.config or ["widest"]):
        return []
    plan = []
    for backend in _backends(args):
        if backend != "cupy":
            continue
        for optimizer in args.widest_optimizers:
            # fit as well as the public step: fit's layer-by-layer update holds less.
            labels = contenders(backend, "cuda" if torch_device else None, False, 1, optimizer)
            plan += [(backend, label, optimizer) for label in labels]
    return plan


def _importable(name: str) -> bool:
    try:
        __import__(name)
        return True
    except ImportError:
        return False


def _torch_device() -> str | None:
    return "cpu" if _importable("torch") else None


if __name__ == "__main__":
    sys.exit(main())
