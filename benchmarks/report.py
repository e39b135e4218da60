"""The benchmark's results as JSON, a Markdown table with the targets, and a PNG plot."""

from __future__ import annotations

import json
import pathlib
import statistics
from typing import Any

NUMPY = "numpy (hand-written)"
NUMPY_LOOP = "numpy loop (hand-written)"


def write_all(results: dict[str, Any], out: pathlib.Path, stem: str) -> list[pathlib.Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"{stem}.json", out / f"{stem}.md"]
    written[0].write_text(json.dumps(results, indent=1) + "\n")
    written[1].write_text(markdown(results, stem))
    if not results["rows"]:  # a widest-network sweep alone has no timings to plot
        return written
    try:
        written.append(plot(results, out / f"{stem}.png"))
    except ImportError:
        print("matplotlib is not installed: no plot written")
    return written


def _ms(timing: dict[str, float]) -> str:
    return (f"{timing['median_s'] * 1e3:.3f} [{timing['min_s'] * 1e3:.3f}–"
            f"{timing['max_s'] * 1e3:.3f}]")


def _ratio(row: dict[str, Any], a: str, b: str) -> float | None:
    """The median over repeats of time(a) / time(b), each ratio taken within one repeat."""
    results = row["results"]
    if "samples_s" not in results.get(a, {}) or "samples_s" not in results.get(b, {}):
        return None
    return statistics.median(x / y for x, y in zip(results[a]["samples_s"], results[b]["samples_s"]))


def _environment_lines(env: dict[str, Any]) -> list[str]:
    blas = "; ".join(f"{p['internal_api']} {p['version']} kernel {p['architecture']}, "
                     f"{p['num_threads']} threads" for p in env["blas"])
    return [
        f"- Date: {env['date']}; {env['platform']}; {env['processor']}; {env['cpu_count']} CPUs",
        f"- xpnet {env['xpnet']}, NumPy {env['numpy']}, PyTorch {env['torch']}, "
        f"scikit-learn {env['sklearn']}, Python {env['python']}",
        f"- BLAS that ran: {blas or 'unknown'}",
        f"- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: {env['openblas_env']}",
        *([f"- Source: {env['source']}"] if env.get("source") else []),
        *([f"- GPU: {env['gpu_name']}, {env['gpu_memory_bytes'] / 2**30:.0f} GiB; CuPy "
           f"{env['cupy']}, CUDA runtime {env['cuda_runtime']}"] if "gpu_name" in env else []),
        *([f"- **TF32** on for float32 products in {', '.join(env['tf32'])} (xpnet.allow_tf32): "
           "inputs of each product rounded to a 10-bit mantissa"] if env.get("tf32") else []),
    ]


def markdown(results: dict[str, Any], stem: str) -> str:
    lines = [f"# xpnet benchmark: {stem}", "", *_environment_lines(results["environment"]), "",
             *(["**Interrupted**: the run was stopped before the end; below is what it measured.",
                ""] if results.get("interrupted") else []),
             "One training step (forward + backward + SGD update) of a relu network with a softmax "
             "output on one mini-batch. FLOPs per step are counted as `6 * batch * n_in * n_out` "
             "per dense layer, less the input gradient of the first layer, which no contender "
             "computes (`4 * batch * n_0 * n_1` there); the same count for every contender. "
             "Times are medians over the repeats after warm-up, [min–max] beside them, every contender and the GEMM peaks timed in turn within each repeat; "
             "`xpnet step` calls `forward_prop`, `backprop(..., input_gradient=False)` and "
             "`update_parameters` on one batch, like the NumPy step; `xpnet fit` is the training "
             "loop over 8 shuffled mini-batches per epoch (gathering each batch, recording loss "
             f"and accuracy), per step, next to a hand-written NumPy loop that shuffles, gathers and "
             "records the same way (each batch's clipped cross-entropy and arg-max hits, read once "
             "per epoch). Peak resident memory of the whole "
             f"run, every contender in one process: {results['peak_rss_bytes'] / 2**20:.0f} MiB; "
             "each contender's own is under Memory below.", "",
             "| config | dims | batch | dtype | contender | ms/step [min–max] | samples/s | GFLOP/s "
             "| % of GEMM peak | time vs NumPy |", "|---|---|---|---|---|---|---|---|---|---|"]
    for row in results["rows"]:
        for label, timing in row["results"].items():
            if "error" in timing:
                lines.append(f"| {row['config']} | {row['dims']} | {row['batch']} | {row['dtype']} "
                             f"| {label} | {timing['error']} | | | | |")
                continue
            ratio = _ratio(row, label, NUMPY)
            lines.append(
                f"| {row['config']} | {row['dims']} | {row['batch']} | {row['dtype']} | {label} | "
                f"{_ms(timing)} | {timing['samples_per_s']:.0f} | {timing['gflops']:.1f} | "
                f"{timing['fraction_of_peak']:.0%} | {'' if ratio is None else f'{ratio:.3f}x'} |")
        lines.append(f"| {row['config']} | | | {row['dtype']} | GEMM peak ({row['gemm_n']}³) | | | "
                     f"{row['gemm_peak_gflops']:.1f} | 100% | |")
        theirs = row.get("torch_gemm_peak_gflops")
        if row.get("torch_gemm_error"):
            lines.append(f"| {row['config']} | | | {row['dtype']} | GEMM peak, PyTorch's BLAS | "
                         f"{row['torch_gemm_error']} | | | | |")
        if theirs is not None:  # PyTorch's own BLAS, timed in turn with the one above
            lines.append(f"| {row['config']} | | | {row['dtype']} | GEMM peak, PyTorch's BLAS "
                         f"({row['gemm_n']}³) | | | {theirs:.1f} | "
                         f"{theirs / row['gemm_peak_gflops']:.0%} | |")
    lines += memory_lines(results)
    lines += widest_lines(results)
    if results["environment"].get("tf32"):
        # The targets are set for float32 products at full precision: TF32 is reported apart.
        lines += ["", "TF32 was on: the targets, set for float32 without TF32, are not checked here."]
        return "\n".join(lines) + "\n"
    lines += ["", "## Targets", "", "| target | config | dtype | measured | met |", "|---|---|---|---|---|"]
    lines += [f"| {t} | {c} | {d} | {m} | {'yes' if ok else '**no**'} |"
              for t, c, d, m, ok in targets(results)]
    return "\n".join(lines) + "\n"


def memory_lines(results: dict[str, Any]) -> list[str]:
    """The memory table: each contender's peak next to the theoretical minimum."""
    rows = [row for row in results["rows"] if row.get("memory")]
    if not rows:
        return []
    lines = ["", "## Memory", "",
             ("Each contender runs alone in a fresh process: imports and a throw-away run at a tiny "
             "size (what a library sets up once per process), the baseline, its set-up, then 3 "
             "calls of its step (the loops get one mini-batch of data, like the others). On the "
             "CPU, peak is the kernel's resident-memory high-water mark (VmHWM, reset once the "
             "contender's data and parameters exist, so it catches every temporary of the steps "
             "but none of the set-up's) less the resident memory at the baseline: it holds the "
             "data, parameters, gradients, caches, temporaries and BLAS buffers. On a GPU, it is the most the device allocator held "
             "(CuPy's memory pool, PyTorch's caching allocator). The theoretical minimum is "
             "parameters + gradients + the activations the backward needs (input included) + "
             "optimizer state (none for plain SGD); MB = 2^20 bytes."), "",
             "| config | dtype | contender | memory | peak MB | theoretical minimum MB | peak / minimum |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        minimum = row["minimum_bytes"]
        for label, found in row["memory"].items():
            peak = found.get("peak_bytes")
            if peak is None:
                shown = "out of memory" if found.get("oom") else found.get("error", "")
                lines.append(f"| {row['config']} | {row['dtype']} | {label} | | {shown} | "
                             f"{minimum / 2**20:.1f} | |")
                continue
            lines.append(f"| {row['config']} | {row['dtype']} | {label} | {found['memory']} | "
                         f"{peak / 2**20:.1f} | {minimum / 2**20:.1f} | {peak / minimum:.2f}x |")
    return lines


def widest_lines(results: dict[str, Any]) -> list[str]:
    """The widest ``[1024, W, W, 10]`` network each GPU contender trains one step of."""
    sweeps = results.get("widest") or []
    if not sweeps:
        return []
    lines = ["", "## Widest network that trains", "",
             ("`[1024, W, W, 10]`, batch 4096: W doubled from the first width tried until the "
              "device ran out of memory, then bisected to within 1/16; each try in a fresh "
              "process, one step; "
              "`fit` with `restore_on_nan=False` (no host copies of the weights, which would not "
              "fit the host twice)."), "",
             "| contender | optimizer | dtype | widest W | peak MB | theoretical minimum MB | "
             "peak / minimum | tried |",
             "|---|---|---|---|---|---|---|---|"]
    for sweep in sweeps:
        who = f"| {sweep['contender']} | {sweep.get('optimizer', 'sgd')} | {sweep['dtype']} |"
        if "error" in sweep:
            lines.append(f"{who} {sweep['error']} | | | | |")
            continue
        peak, minimum = sweep["peak_bytes"], sweep["minimum_bytes"]
        tried = ", ".join(f"{t['width']}{'' if t['trains'] else ' (OOM)'}" for t in sweep["tried"])
        lines.append(f"{who} {sweep['widest']} | "
                     f"{'' if peak is None else f'{peak / 2**20:.0f}'} | {minimum / 2**20:.0f} | "
                     f"{'' if peak is None else f'{peak / minimum:.2f}x'} | {tried} |")
    return lines


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, str, bool]]:
    """(target, config, dtype, measured, met) for every target the rows can answer."""
    found = []
    for row in results["rows"]:
        backend, config, dtype = row["backend"], row["config"], row["dtype"]
        step, loop = f"xpnet[{backend}] step", f"xpnet[{backend}] fit"
        if backend == "numpy":
            for label, reference in ((step, NUMPY), (loop, NUMPY_LOOP), (loop, NUMPY)):
                ratio = _ratio(row, label, reference)
                if ratio is not None:
                    found.append((f"{label} <= 1.05x {reference}", config, dtype, f"{ratio:.3f}x",
                                  ratio <= 1.05))
            torch_ratio = _ratio(row, step, "pytorch[cpu]")
            if torch_ratio is not None:
                found.append(("xpnet step faster than PyTorch (CPU)", config, dtype,
                              f"{torch_ratio:.3f}x", torch_ratio < 1))
            sklearn_ratio = _ratio(row, "scikit-learn", step)
            if sklearn_ratio is not None:
                found.append(("xpnet step >= 1.4x faster than scikit-learn", config, dtype,
                              f"{sklearn_ratio:.2f}x faster", sklearn_ratio >= 1.4))
        fraction = row["results"].get(step, {}).get("fraction_of_peak")
        if fraction is not None and config in ("medium", "wide") and dtype == "float32":
            found.append(("xpnet step >= 90% of GEMM peak", config, dtype, f"{fraction:.0%}",
                          fraction >= 0.9))
        if backend == "cupy":
            for label in (step, loop):  # on a GPU, the training loop is held to the same targets
                fraction = row["results"].get(label, {}).get("fraction_of_peak")
                if fraction is not None and row["dims"][1] >= 4096:
                    found.append((f"{label} >= 90% of GEMM peak", config, dtype, f"{fraction:.0%}",
                                  fraction >= 0.9))
                ratio = _ratio(row, label, "pytorch[cuda]")
                if ratio is not None:
                    found.append((f"{label} <= 1.0x PyTorch CUDA", config, dtype, f"{ratio:.3f}x",
                                  ratio <= 1))
            for label in (step, loop):
                pool = row.get("memory", {}).get(label, {}).get("peak_bytes")
                if pool is not None:
                    found.append((f"{label} device memory <= 1.10x minimum", config, dtype,
                                  f"{pool / row['minimum_bytes']:.2f}x",
                                  pool <= 1.1 * row["minimum_bytes"]))
    return found + widest_targets(results.get("widest") or [])


def widest_targets(sweeps: list[dict[str, Any]]) -> list[tuple[str, str, str, str, bool]]:
    """xpnet fit's widest network against PyTorch's, per optimizer: >= 1.5x the width with
    plain SGD, at least the same with momentum and Adam."""
    widths = {(s["contender"], s["dtype"], s.get("optimizer", "sgd")): s["widest"]
              for s in sweeps if "widest" in s}
    found = []
    for (label, dtype, optimizer), width in widths.items():
        theirs = widths.get(("pytorch[cuda]", dtype, optimizer))
        if not (label.startswith("xpnet") and label.endswith(" fit")) or theirs is None:
            continue
        needed = 1.5 if optimizer == "sgd" else 1.0
        found.append((f"widest {label} >= {needed}x PyTorch's W ({optimizer})", "widest", dtype,
                      f"W={width} vs {theirs} ({width / theirs:.2f}x)", width >= needed * theirs))
    return found


def plot(results: dict[str, Any], path: pathlib.Path) -> pathlib.Path:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4), layout="constrained")
    time_axes, flops_axes = figure.subplots(1, 2)
    curves: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    for row in results["rows"]:
        for label, timing in row["results"].items():
            if "median_s" in timing:
                curves.setdefault((label, row["dtype"]), []).append(
                    (row["dims"][1], timing["median_s"] * 1e3, timing["gflops"]))
    # One colour per contender, one line style per dtype.
    colours = {label: f"C{i}" for i, label in enumerate(dict.fromkeys(k[0] for k in curves))}
    styles = {"float32": "-", "float64": "--"}
    for (label, dtype), points in curves.items():
        points.sort()
        widths = [p[0] for p in points]
        style = dict(color=colours[label], linestyle=styles.get(dtype, ":"), marker="o",
                     label=f"{label} {dtype}")
        time_axes.plot(widths, [p[1] for p in points], **style)
        flops_axes.plot(widths, [p[2] for p in points], **style)
    for axes, title in ((time_axes, "ms per step"), (flops_axes, "GFLOP/s")):
        axes.set_xscale("log", base=2)
        axes.set_yscale("log")
        axes.set_xlabel("first hidden layer width")
        axes.set_title(title)
        axes.grid(alpha=0.3)
    flops_axes.legend(fontsize=6, ncols=2)
    figure.savefig(path)
    return path
