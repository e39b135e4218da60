"""Peak memory of one contender's training steps, each measured in a fresh process.

    python -m benchmarks.memory --config small --dtype float32 --contender "numpy (hand-written)"
    python -m benchmarks.memory --dims 1024 8192 8192 10 --batch 4096 --backend cupy \\
                                --contender "xpnet[cupy] step" --calls 1

Prints one JSON object: ``peak_bytes`` (on the CPU the growth of resident memory over the
process after its imports; on a GPU the most the device allocator held), ``oom`` (whether
the backend ran out of memory), and how it was measured. ``--contender`` takes a label of
the timing table. The suite (``python -m benchmarks``) runs this once per contender, config
and dtype, so that no contender's peak hides another's, and for the widest-network sweep.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pathlib
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from .suite import CONFIGS, OPTIMIZER_SLOTS, QUICK_CONFIGS, contenders

ROOT = pathlib.Path(__file__).resolve().parent.parent
WARM_UP = ([16, 16, 16, 10], 16)  # dims, batch of the throw-away run before the baseline


def minimum_bytes(dims: list[int], batch: int, itemsize: int, optimizer_slots: int = 0) -> int:
    """The least memory one training step of ``dims`` on ``batch`` samples must hold, in bytes.

    Counts, at ``itemsize`` bytes a number:

    - parameters: every ``W`` (``n_out x n_in``) and ``b`` (``n_out``);
    - gradients: one number for each parameter;
    - kept activations, for the batch: what the forward pass keeps for the backward one,
      the input ``X`` (``A0``, for the first weight gradient) and every layer's output
      ``A1..AL`` (hidden ones for the relu mask and the next weight gradient, ``AL`` for
      ``AL - Y``), ``batch * sum(dims)`` numbers;
    - optimizer state: ``optimizer_slots`` arrays the size of the parameters (0 for plain
      SGD, as every contender here uses; 1 for momentum, 2 for Adam).

    Not counted: the one-hot labels ``Y`` (``batch * dims[-1]``), the backward's ``dZ``
    temporaries, BLAS workspace and the interpreter itself.
    """
    params = sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(dims))
    activations = batch * sum(dims)
    return ((2 + optimizer_slots) * params + activations) * itemsize


def widest(trains: Callable[[int], bool], start: int = 1024, multiple: int = 128,
           precision: float = 1 / 16, ceiling: int = 1 << 20) -> int:
    """The widest width that ``trains``, found by doubling from ``start`` until one fails,
    then bisecting between the last success and the first failure.

    Assumes that a width that fails makes every wider one fail. Widths tried are multiples
    of ``multiple``; bisection stops once the bracket is within ``precision`` of the answer
    (or ``multiple``), so a sweep costs about ``log2(answer / start) + 5`` trials whatever
    the device. Returns 0 when no width trains, and ``ceiling`` when it is reached without
    a failure (a stop for a ``trains`` that never fails). Each width is tried once.
    """
    if start < multiple or start % multiple:
        raise ValueError(f"start must be a positive multiple of multiple={multiple}, got {start}")
    lo, hi = 0, start
    while trains(hi):
        lo, hi = hi, 2 * hi
        if hi > ceiling:
            return lo
    while hi - lo > max(multiple, int(lo * precision)):
        # lo and hi are multiples of `multiple` at least two apart, so lo < mid < hi.
        mid = (lo + hi) // 2 // multiple * multiple
        lo, hi = (mid, hi) if trains(mid) else (lo, mid)
    return lo


def measure_in_subprocess(label: str, dims: list[int], batch: int, dtype: str, backend: str,
                          calls: int = 3, timeout: float = 1800, optimizer: str = "sgd",
                          restore_on_nan: bool = True) -> dict[str, Any]:
    """Run this module for one contender in a fresh interpreter and return what it printed.

    A process killed by the kernel (its out-of-memory killer sends SIGKILL) counts as out of
    memory; any other failure is returned as ``{"error": ...}``.
    """
    command = [sys.executable, "-m", "benchmarks.memory", "--contender", label,
               "--dims", *map(str, dims), "--batch", str(batch), "--dtype", dtype,
               "--backend", backend, "--calls", str(calls), "--optimizer", optimizer,
               *([] if restore_on_nan else ["--no-restore-on-nan"])]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout:.0f} s"}
    if done.returncode == -signal.SIGKILL:
        return {"oom": True, "peak_bytes": None, "killed": True}
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["(no output)"]
        return {"error": f"exit {done.returncode}: {lines[-1]}"[:300]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- in the measured process ----------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_host_peak() -> bool:
    """Reset the kernel's resident-memory high-water mark (VmHWM) to the current RSS.

    Writing 5 to /proc/self/clear_refs does that (Linux >= 4.0). The kernel raises the mark
    to the current RSS before it unmaps any page (munmap, brk shrink, madvise DONTNEED), and
    a reading takes the larger of the two, so a temporary allocated and freed between two
    readings still shows in it; a thread sampling VmRSS would miss it. getrusage's ru_maxrss reads the same mark but cannot be
    reset, so it would also hold the set-up's peaks (float64 draws cast to float32, copies).
    """
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def _host_peak_kib() -> int:
    hwm = _status_kib("VmHWM")
    if hwm is not None:
        return hwm
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss // 1024 if sys.platform == "darwin" else maxrss  # bytes there, KiB on Linux


class _DeviceAllocator:
    """Peak bytes held by the allocator a GPU contender allocates from; kept apart on purpose.

    CuPy: the default memory pool keeps freed blocks for reuse and only hands them back on
    ``free_all_blocks()``, so after emptying it once the set-up is done, its
    ``total_bytes()`` does not fall during the steps and is their peak. (One exception: when
    the device is all but full, the pool frees its cache to retry a failed allocation; the
    maximum of readings after each call is then a lower bound.) PyTorch CUDA: the caching
    allocator records its own peak, ``max_memory_reserved()``, since the reset.
    """

    def __init__(self, kind: str):
        self.kind, self.peak = kind, 0
        if kind == "cupy":
            import cupy

            self.pool = cupy.get_default_memory_pool()

    def reset(self) -> None:
        if self.kind == "cupy":
            self.pool.free_all_blocks()
            self.peak = self.pool.total_bytes()
        else:
            import torch

            torch.cuda.synchronize()
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()

    def read(self) -> int:
        if self.kind == "cupy":
            self.peak = max(self.peak, self.pool.total_bytes())
            return self.peak
        import torch

        return torch.cuda.max_memory_reserved()


def _device_kind(label: str, backend: str) -> str | None:
    if label == "pytorch[cuda]":
        return "torch"
    if backend == "cupy" and label.startswith("xpnet"):
        return "cupy"
    return None


def _oom_errors(backend: str, label: str) -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [MemoryError]
    if backend == "cupy":
        import cupy

        errors.append(cupy.cuda.memory.OutOfMemoryError)
    if label.startswith("pytorch"):
        import torch

        errors.append(torch.cuda.OutOfMemoryError)
    return tuple(errors)


def measure(label: str, dims: list[int], batch: int, dtype: str, backend: str,
            calls: int = 3, optimizer: str = "sgd", restore_on_nan: bool = True) -> dict[str, Any]:
    """Build one contender and run ``calls`` of its step here; this process's peak memory.

    The baseline is taken after the imports and a throw-away run of the same contender at a
    tiny size (so that what a library sets up once per process, lazy imports, thread pools,
    the device context, is not counted) and before the contender builds its data and
    parameters; the high-water mark is reset once they exist, so ``peak_bytes`` is the most
    the process held during the steps (data, parameters, gradients, caches, temporaries,
    BLAS buffers) over that baseline, without the set-up's own temporaries.
    """
    import xpnet


    torch_device = ("cuda" if backend == "cupy" else "cpu") if label.startswith("pytorch") else None
    found = contenders(backend, torch_device, label == "scikit-learn", loop_batches=1,
                       optimizer=optimizer, restore_on_nan=restore_on_nan)
    if label not in found:
        raise SystemExit(f"unknown --contender {label!r} for backend {backend}; "
                         f"choose from {', '.join(map(repr, found))}")
    xpnet.backend.resolve_backend(backend)
    oom_errors = _oom_errors(backend, label)
    device_kind = _device_kind(label, backend)
    device = _DeviceAllocator(device_kind) if device_kind else None
    warm_step, warm_sync = found[label](*WARM_UP, dtype)
    warm_step()
    warm_sync()
    del warm_step, warm_sync
    baseline_kib = _status_kib("VmRSS")
    reset = False
    try:
        step, sync = found[label](dims, batch, dtype)
        sync()
        setup_kib = _status_kib("VmRSS")
        reset = _reset_host_peak()
        if device:
            device.reset()
        for _ in range(calls):
            step()
            sync()
            device_peak = device.read() if device else None
    except oom_errors as exc:
        return {"oom": True, "peak_bytes": None, "error": f"{type(exc).__name__}: {exc}"[:300]}
    if baseline_kib is None or not reset:  # not Linux: ru_maxrss over the whole run
        baseline_kib, setup_kib = 0, None
    host_peak = (_host_peak_kib() - baseline_kib) * 1024
    return {"oom": False, "calls": calls,
            "peak_bytes": device_peak if device else host_peak,
            "memory": {"cupy": "device, CuPy memory pool", "torch": "device, PyTorch caching allocator",
                       None: "host RSS"}[device_kind],
            "host_peak_bytes": host_peak,
            "setup_bytes": None if setup_kib is None else (setup_kib - baseline_kib) * 1024,
            "host_method": "VmHWM reset after set-up, minus VmRSS after imports" if reset
            else "peak RSS of the whole process (no reset here)"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contender", required=True, help="a label of the timing table")
    parser.add_argument("--config", default=None, help="a configuration of the suite (or --dims)")
    parser.add_argument("--dims", type=int, nargs="+", default=None, help="layer sizes")
    parser.add_argument("--batch", type=int, default=None, help="mini-batch size, with --dims")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--backend", default="numpy", help="xpnet backend (default: numpy)")
    parser.add_argument("--calls", type=int, default=3, help="step calls measured (default: 3)")
    parser.add_argument("--optimizer", default="sgd", choices=list(OPTIMIZER_SLOTS),
                        help="the optimizer of fit and PyTorch (default: sgd)")
    parser.add_argument("--no-restore-on-nan", dest="restore_on_nan", action="store_false",
                        help="fit keeps no host copies of the weights to fall back on")
    args = parser.parse_args(argv)

    configs = {**CONFIGS, **QUICK_CONFIGS}
    if args.config is not None:
        if args.config not in configs:
            parser.error(f"unknown --config {args.config!r}; choose from {', '.join(configs)}")
        dims, batch = configs[args.config]
    elif args.dims is None or args.batch is None:
        parser.error("give --config, or --dims and --batch")
    else:
        dims, batch = args.dims, args.batch
    if args.calls < 1:
        parser.error("--calls must be >= 1")
    result = measure(args.contender, dims, batch, args.dtype, args.backend, args.calls,
                     args.optimizer, args.restore_on_nan)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
