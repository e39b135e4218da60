"""Data-parallel scaling: step time, samples/s and communication time against the number of
ranks, with a written model of the gradient Allreduce at 8-64 GPUs.

    python -m benchmarks --distributed            # 1..(cores) ranks on this machine's CPU
    python -m benchmarks.distributed --ranks 1 2 4 --backend cupy   # on a machine with GPUs

Each rank count runs as its own job, ``mpiexec -n P python -m mpi4py -m
benchmarks.distributed --worker ...``, one BLAS thread per rank where ranks share the
cores. Within a job, ``fit`` trains the same network with the same global batch (each
rank its share of it); the step time is the wall time of an epoch over its steps, and
the communication time per step is one Allreduce of the gradients' flat buffer timed
alone (the step's share of it). Results go to ``benchmarks/results/distributed-*.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

RESULTS = pathlib.Path(__file__).parent / "results"
DIMS = [784, 512, 512, 10]
TENSOR_DIMS = [784, 2048, 2048, 10]
BATCH = 1024
# Links a gradient Allreduce crosses, in bytes/s of ring bus bandwidth per GPU: NVLink 4 within
# an 8-GPU H100/H200 node (NCCL's all_reduce busbw reaches ~400 GB/s there) and one 400 Gb/s
# InfiniBand NDR port per GPU between nodes (50 GB/s).
LINKS = {"NVLink (one node, <= 8 GPUs)": 400e9, "InfiniBand NDR 400 Gb/s per GPU": 50e9}


def worker(args: argparse.Namespace) -> None:
    """One job's measurement (run on every rank; rank 0 writes the JSON)."""
    import numpy as np
    from mpi4py import MPI

    import xpnet
    from xpnet.distributed import transport_for

    comm = MPI.COMM_WORLD
    dims, batch, steps = args.dims, args.batch, args.steps
    rng = np.random.RandomState(0)
    X = rng.randn(dims[0], batch * steps).astype(args.dtype)
    Y = np.eye(dims[-1], dtype=args.dtype)[rng.randint(dims[-1], size=batch * steps)].T
    options = dict(epochs=1, batch_size=batch, optimizer="sgd", lr=0.01, hidden="relu",
                   output="softmax", dtype=args.dtype, backend=args.backend, verbose=0,
                   shuffle=False, comm=comm, parallel=args.parallel)
    params, _ = xpnet.fit(X, Y, dims, **options)  # warm-up; its weights go on training
    epoch_ends: list[float] = []

    def clock(epoch, logs, params):  # the same moment on every rank: the epoch's metrics are summed
        epoch_ends.append(time.perf_counter())

    xpnet.fit(X, Y, dims, params=params, **{**options, "epochs": args.repeat + 1},
              callbacks=[clock])
    # Epoch to epoch: the steps and the epoch's metrics, without fit's set-up.
    epoch_times = [b - a for a, b in zip(epoch_ends, epoch_ends[1:])]
    if args.parallel == "tensor":  # the sums of a step: each layer's product past the first,
        # and each hidden layer's dZ past the first, batch x width each
        n_summed = batch * (sum(dims[2:]) + sum(dims[2:-1]))
    else:  # one sum of every gradient
        n_summed = sum(int(np.prod(p.shape)) for p in params.values())
    buffer = xpnet.asarray(np.ones(n_summed, dtype=args.dtype), args.backend)
    transport = transport_for(comm, buffer)
    comm_times = []
    for _ in range(args.repeat * 5):
        comm.Barrier()
        start = time.perf_counter()
        buffer = transport.allreduce_sum(buffer)
        float(buffer[0])  # waits for a GPU's Allreduce to finish
        comm_times.append(time.perf_counter() - start)
    if comm.rank == 0:
        step = statistics.median(epoch_times) / steps
        allreduce = statistics.median(comm_times)
        pathlib.Path(args.out).write_text(json.dumps({
            "ranks": comm.Get_size(), "dims": dims, "batch": batch, "dtype": args.dtype,
            "backend": args.backend, "steps_per_epoch": steps, "step_ms": step * 1e3,
            "step_ms_range": [min(epoch_times) / steps * 1e3, max(epoch_times) / steps * 1e3],
            "samples_per_s": batch / step, "allreduce_ms": allreduce * 1e3,
            "summed_bytes": n_summed * np.dtype(args.dtype).itemsize, "parallel": args.parallel,
            "threads_per_rank": os.environ.get("OMP_NUM_THREADS")}))


def measure(ranks: list[int], backend: str, dtype: str, repeat: int, steps: int,
            parallel: str = "data", dims: list[int] = DIMS) -> list[dict]:
    """Launch one job per rank count; their rows, in order."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rows = []
    for p in ranks:
        with tempfile.TemporaryDirectory() as tmp:
            out = pathlib.Path(tmp) / "row.json"
            env = dict(os.environ, OMP_NUM_THREADS=str(max(1, (cores or 1) // p)))
            command = [_mpiexec(), "-n", str(p), sys.executable, "-m", "mpi4py", "-m",
                       "benchmarks.distributed", "--worker", "--out", str(out),
                       "--backend", backend, "--dtype", dtype, "--repeat", str(repeat),
                       "--steps", str(steps), "--batch", str(BATCH), "--parallel", parallel,
                       "--dims", *map(str, dims)]
            subprocess.run(command, check=True, timeout=1800, env=env,
                           cwd=pathlib.Path(__file__).parent.parent)
            rows.append(json.loads(out.read_text()))
    return rows


def _mpiexec() -> str:
    beside = pathlib.Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else "mpiexec"


def allreduce_model(gpu_rows: list[dict[str, Any]]) -> list[str]:
    """The written model: a ring Allreduce moves 2(p-1)/p of the gradient bytes over each
    GPU's link per step; against the measured one-GPU step time (weak scaling: each GPU
    keeps its batch), without overlap of communication and computation."""
    lines = ["| config | gradient MiB (float32) | one-GPU step ms | GPUs | link | Allreduce ms | "
             "step ms | efficiency |", "|---|---|---|---|---|---|---|---|"]
    for row in gpu_rows:
        n_weights = sum(n_out * n_in + n_out for n_out, n_in in zip(row["dims"][1:], row["dims"][:-1]))
        nbytes = 4 * n_weights
        for gpus in (8, 16, 32, 64):
            for link, bandwidth in LINKS.items():
                if (gpus > 8) == link.startswith("NVLink"):
                    continue  # one node: NVLink; beyond, the slowest link sets the ring's pace
                t = 2 * (gpus - 1) / gpus * nbytes / bandwidth * 1e3
                step = row["ms"]
                lines.append(f"| {row['config']} | {nbytes / 2**20:.0f} | {step:.2f} | {gpus} | "
                             f"{link} | {t:.2f} | {step + t:.2f} | {step / (step + t):.0%} |")
    return lines


DESCRIPTIONS = {
    "data": "data parallel: each rank computes its piece of every batch and the gradients are "
            "summed by one Allreduce per step.",
    "tensor": "tensor parallel: each rank holds its share of every hidden layer and every rank "
              "the whole batch; each step sums each layer's product past the first and each "
              "hidden layer's dZ past the first (two sums of batch x width per hidden pair)."}


def tensor_model() -> list[str]:
    """The written model of tensor parallelism on GPUs: the widest [1024, W, W, 10] per GPU
    count, and the cost of its sums per step against its computation."""
    path = RESULTS / "gpu-widest-sgd.json"
    if not path.exists():
        return []
    widest = next(r for r in json.loads(path.read_text())["widest"]
                  if r["contender"] == "xpnet[cupy] fit")
    W1, batch = widest["widest"], widest["batch"]
    peak = json.loads((RESULTS / "gpu.json").read_text())["rows"][0]["gemm_peak_gflops"] * 1e9
    lines = ["", "## Model: the widest layers on N GPUs", "",
             f"One H200 trains `[1024, W, W, 10]` (float32, SGD, batch {batch}) up to W = {W1} "
             "(`gpu-widest-sgd.md`), where the W x W weights (4 W^2 bytes, "
             f"{4 * W1 ** 2 / 1e9:.0f} GB) are most of the memory. Split N ways, each GPU holds "
             "W^2/N of them, so the widest W grows about as sqrt(N) (the whole-batch temporaries, "
             "batch x W, are a few GB). Per step the GPUs sum about 2 x batch x W numbers (the "
             "hidden pair's product and its dZ) by ring Allreduce, 2(N-1)/N x bytes over each "
             f"GPU's link (NVLink, {LINKS['NVLink (one node, <= 8 GPUs)'] / 1e9:.0f} GB/s), "
             f"against 6 x batch x (1024 W + W^2 + 10 W) / N FLOPs at the measured GEMM peak "
             f"({peak / 1e12:.0f} TFLOP/s). A model, not a measurement.", "",
             "| GPUs | widest W (model) | weights per GPU GB | compute ms/step | sums ms/step | "
             "sums / compute |", "|---|---|---|---|---|---|"]
    for n in (1, 2, 4, 8):
        W = int(W1 * n ** 0.5) // 128 * 128
        compute = 6 * batch * (1024 * W + W * W + 10 * W) / n / peak * 1e3
        sums = 0.0 if n == 1 else 2 * (n - 1) / n * (2 * batch * W * 4) / \
            LINKS["NVLink (one node, <= 8 GPUs)"] * 1e3
        lines.append(f"| {n} | {W} | {4 * (1024 * W + W * W + 10 * W) / n / 1e9:.0f} | "
                     f"{compute:.0f} | {sums:.2f} | {sums / compute:.2%} |")
    return lines


def _gpu_rows() -> list[dict[str, Any]]:
    """xpnet's measured one-GPU fit step per width, from the committed GPU results."""
    path = RESULTS / "gpu.json"
    if not path.exists():
        return []
    rows = json.loads(path.read_text())["rows"]
    return [{"config": r["config"], "dims": r["dims"],
             "ms": r["results"]["xpnet[cupy] fit"]["median_s"] * 1e3}
            for r in rows if "xpnet[cupy] fit" in r.get("results", {})]


def report(rows: list[dict], name: str) -> pathlib.Path:
    """Write ``results/NAME.md`` and ``.json``: the measured rows, then the model."""
    sys.path.insert(0, str(pathlib.Path(__file__).parent.parent))
    from benchmarks.run import environment

    env = environment()
    base = rows[0]
    lines = [f"# xpnet benchmark: {name}", "",
             f"- Date: {env['date']}; {env['platform']}; {env['cpu_count']} CPUs",
             f"- xpnet {env['xpnet']}, NumPy {env['numpy']}, Python {env['python']}",
             f"- BLAS that ran (the driver process): {env['blas']}",
             f"- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: {env['openblas_env']}",
             f"- Source: {env['source']}", "",
             f"`fit` (SGD, relu, softmax) of {base['dims']} on a global batch of {base['batch']} "
             f"({base['dtype']}, {base['backend']}), {base['steps_per_epoch']} steps per epoch, "
             f"{DESCRIPTIONS[base['parallel']]} Step time: median over epochs of the wall time "
             "from one epoch's end to the next (its steps and its metrics, not fit's set-up) / "
             "steps [min-max]; Allreduce: one sum of as many numbers as a step sums, timed alone "
             "(median). The BLAS threads of the ranks share the machine's cores; the machine "
             "was shared with other work while this ran, so the figures scatter.", "",
             "| ranks | threads per rank | ms/step [min-max] | samples/s | speed-up | Allreduce ms "
             "| Allreduce share of the step |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        lo, hi = row["step_ms_range"]
        lines.append(f"| {row['ranks']} | {row['threads_per_rank']} | {row['step_ms']:.2f} "
                     f"[{lo:.2f}-{hi:.2f}] | {row['samples_per_s']:.0f} | "
                     f"{base['step_ms'] / row['step_ms']:.2f}x | {row['allreduce_ms']:.3f} | "
                     f"{row['allreduce_ms'] / row['step_ms']:.0%} |")
    gpu_rows = _gpu_rows()
    if base["parallel"] == "tensor":
        lines += tensor_model()
    elif gpu_rows:
        lines += ["", "## Model: the gradient Allreduce on 8-64 GPUs", "",
                  "A ring Allreduce sends and receives 2(p-1)/p of the gradient bytes over each "
                  "GPU's link per step, so its time is about 2(p-1)/p x bytes / link bandwidth "
                  "(latency left out: it matters only for small buffers). With each GPU keeping "
                  "its batch of 4096 (weak scaling) the computation per step stays the one-GPU "
                  "`fit` step measured in `gpu.md`; xpnet does not overlap the Allreduce with the "
                  "backward pass, so the step is their sum and the efficiency their ratio. "
                  f"Links: {', '.join(f'{k} {v / 1e9:.0f} GB/s' for k, v in LINKS.items())}. "
                  "A model, not a measurement: no multi-GPU machine was used.", "",
                  *allreduce_model(gpu_rows)]
    path = RESULTS / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    (RESULTS / f"{name}.json").write_text(json.dumps({"environment": env, "rows": rows}, indent=1))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranks", type=int, nargs="+", default=None,
                        help="rank counts to run (default: 1 up to the number of cores, doubling)")
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--name", default=None, help="results file stem (default: distributed-BACKEND)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=BATCH, help=argparse.SUPPRESS)
    parser.add_argument("--dims", type=int, nargs="+", default=None,
                        help=f"layer sizes (default: {DIMS} for data, {TENSOR_DIMS} for tensor)")
    parser.add_argument("--parallel", choices=["data", "tensor"], default="data")
    args = parser.parse_args(argv)
    args.dims = args.dims or (TENSOR_DIMS if args.parallel == "tensor" else DIMS)
    if args.worker:
        worker(args)
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    ranks = args.ranks or [p for p in (1, 2, 4, 8, 16) if p <= (cores or 1)]
    rows = measure(ranks, args.backend, args.dtype, args.repeat, args.steps, args.parallel,
                   args.dims)
    name = args.name or f"distributed-{args.parallel}-{args.backend}"
    print(report(rows, name).read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
