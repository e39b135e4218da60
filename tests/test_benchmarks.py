"""The benchmark suite runs (its --quick mode), so it never rots; its memory figures are sane."""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks/ is not installed; import it from the checkout
import xpnet
from benchmarks import memory, report, steps

SMALL_DIMS, SMALL_BATCH = [784, 128, 64, 10], 256


def test_quick_benchmark_writes_its_tables(tmp_path):
    pytest.importorskip("threadpoolctl")
    result = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "quick.json").read_text())
    row = results["rows"][0]
    assert row["config"] == "tiny" and row["flops_per_step"] == 6 * 64 * (64 * 32 + 32 * 32 + 32 * 10) - 2 * 64 * 64 * 32
    timings = row["results"]
    for label in ("xpnet[numpy] step", "xpnet[numpy] fit", "numpy (hand-written)",
                  "numpy loop (hand-written)"):
        assert timings[label]["median_s"] > 0 and len(timings[label]["samples_s"]) == 3
    table = (tmp_path / "quick.md").read_text()
    assert "## Targets" in table and "xpnet[numpy] step <= 1.05x" in table
    assert results["environment"]["blas"], "the BLAS that ran must be recorded"
    source = results["environment"]["source"]
    assert source is None or (len(source.split("+")[0]) == 40 and f"Source: {source}" in table)
    assert "memory" not in row and results["widest"] == [], "--quick runs no memory measurement"
    assert row["gemm_peak_gflops"] > 0 and timings["xpnet[numpy] step"]["fraction_of_peak"] > 0
    if row["torch_gemm_error"] is None and "pytorch[cpu]" in timings:
        assert row["torch_gemm_peak_gflops"] > 0 and "GEMM peak, PyTorch's BLAS" in table


def test_the_hand_written_step_records_the_loss_and_hits_that_fit_records():
    import xpnet

    dims = [6, 5, 4]
    X, Y = steps.batch_data(dims, 16, "float64")
    Ws, bs = steps._numpy_network(dims, "float64")
    params = {key: value.copy() for l, (W, b) in enumerate(zip(Ws, bs), start=1)
              for key, value in ((f"W{l}", W), (f"b{l}", b))}
    AL, _ = xpnet.forward_prop(X, params, hidden="relu", output="softmax")
    record = []
    steps._numpy_sgd_step(Ws, bs, X, Y, 0.1, record)
    (loss, hits), = record
    assert loss == pytest.approx(float(xpnet.cost_function(AL, Y, output="softmax")), rel=1e-12)
    assert hits == float(xpnet.OUTPUTS["softmax"].correct_count(AL, Y))


def test_minimum_counts_parameters_gradients_activations_and_optimizer_state():
    params = 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    activations = SMALL_BATCH * (784 + 128 + 64 + 10)
    assert memory.minimum_bytes(SMALL_DIMS, SMALL_BATCH, 4) == (2 * params + activations) * 4
    assert memory.minimum_bytes(SMALL_DIMS, SMALL_BATCH, 8, optimizer_slots=2) == \
        (4 * params + activations) * 8


def test_peak_memory_of_one_contender_is_measured_in_its_own_process():
    pytest.importorskip("threadpoolctl")
    found = memory.measure_in_subprocess("numpy (hand-written)", SMALL_DIMS, SMALL_BATCH,
                                         "float32", "numpy")
    assert "error" not in found and found["oom"] is False, found
    minimum = memory.minimum_bytes(SMALL_DIMS, SMALL_BATCH, 4)
    peak = found["peak_bytes"]
    assert isinstance(peak, int) and peak > 0
    # It holds at least the data and parameters it set up (about half the minimum), and
    # not the interpreter and its imports (which alone pass 50 MB): far under 1 GiB.
    assert minimum * 0.5 <= peak < 2**30, (peak, minimum)
    if found["host_method"].startswith("VmHWM"):
        assert 0 < found["setup_bytes"] <= peak


def test_out_of_memory_is_reported_not_raised():
    absurd = 2**40  # a weight matrix of 2**46 numbers: the allocation fails at once
    found = memory.measure_in_subprocess("xpnet[numpy] step", [64, absurd, absurd, 10], 64,
                                         "float32", "numpy", calls=1)
    assert found["oom"] is True and found["peak_bytes"] is None, found
    assert "MemoryError" in found["error"]


def _recording(limit):
    tried = []

    def trains(width):
        assert width not in tried, f"width {width} tried twice"
        assert all(width < t for t in tried if t > limit), "tried wider than a width that failed"
        tried.append(width)
        return width <= limit

    return trains, tried


@pytest.mark.parametrize("limit", [1024, 5000, 8191, 20000, 100_000, 1_000_000])
def test_widest_finds_the_widest_width_that_trains_within_its_precision(limit):
    trains, tried = _recording(limit)
    found = memory.widest(trains)
    assert found <= limit and found % 128 == 0
    assert found >= limit - max(128, limit / 16) - 128, (found, tried)
    assert len(tried) <= (limit // 1024).bit_length() + 7, tried


def test_widest_bisects_below_start_when_start_fails():
    trains, _ = _recording(700)
    assert 500 <= memory.widest(trains) <= 700
    trains, _ = _recording(50)
    assert memory.widest(trains) == 0


def test_widest_stops_at_its_ceiling_when_nothing_fails():
    trains, tried = _recording(float("inf"))
    assert memory.widest(trains, ceiling=1 << 16) == 1 << 16
    assert tried == [1024, 2048, 4096, 8192, 16384, 32768, 65536]


def test_widest_needs_a_start_on_its_grid():
    with pytest.raises(ValueError, match="multiple of multiple=128"):
        memory.widest(lambda width: True, start=1000)


def test_a_pytorch_that_cannot_run_its_gemm_leaves_an_error_row_not_a_crash(monkeypatch):
    from benchmarks import run

    def broken(n, dtype, device):
        raise AssertionError("Torch not compiled with CUDA enabled")

    monkeypatch.setattr(steps, "torch_gemm_peak", broken)
    monkeypatch.setattr(run, "contenders", lambda *a, **k: {})
    row = run.run_config("tiny", [8, 4, 2], 4, "float32", "numpy", 1, 32, "cuda", False)
    assert row["torch_gemm_peak_gflops"] is None and row["gemm_peak_gflops"] > 0
    assert "Torch not compiled with CUDA" in row["torch_gemm_error"]
    environment = {"blas": [], "date": "", "platform": "", "processor": "", "cpu_count": 1,
                   "xpnet": "", "numpy": "", "torch": "", "sklearn": "", "python": "",
                   "openblas_env": {}}
    text = report.markdown({"rows": [row], "environment": environment, "peak_rss_bytes": 0}, "t")
    assert "| GEMM peak, PyTorch's BLAS | AssertionError: Torch not compiled with CUDA" in text


def test_markdown_sets_each_peak_beside_the_minimum():
    minimum = memory.minimum_bytes(SMALL_DIMS, SMALL_BATCH, 4)
    row = {"config": "small", "dtype": "float32", "minimum_bytes": minimum,
           "memory": {"numpy (hand-written)": {"oom": False, "peak_bytes": 2 * minimum,
                                               "memory": "host RSS"},
                      "pytorch[cpu]": {"error": "exit 1: ImportError: torch"}}}
    sweep = {"contender": "xpnet[cupy] step", "dtype": "float32", "widest": 8192,
             "peak_bytes": 3 * 2**30, "minimum_bytes": 2**30,
             "tried": [{"width": 8192, "trains": True}, {"width": 16384, "trains": False}]}
    lines = report.memory_lines({"rows": [row]}) + report.widest_lines({"widest": [sweep]})
    text = "\n".join(lines)
    assert f"| small | float32 | numpy (hand-written) | host RSS | {2 * minimum / 2**20:.1f} | " \
           f"{minimum / 2**20:.1f} | 2.00x |" in text
    assert "exit 1: ImportError: torch" in text
    assert "| xpnet[cupy] step | sgd | float32 | 8192 | 3072 | 1024 | 3.00x | 8192, 16384 (OOM) |" in text


def test_widest_targets_compare_fit_with_pytorch_per_optimizer():
    def sweep(label, optimizer, width):
        return {"contender": label, "dtype": "float32", "optimizer": optimizer, "widest": width}

    sweeps = [sweep("xpnet[cupy] fit", "sgd", 131_072), sweep("pytorch[cuda]", "sgd", 81_920),
              sweep("xpnet[cupy] fit", "adam", 40_000), sweep("pytorch[cuda]", "adam", 40_960),
              sweep("xpnet[cupy] step", "sgd", 90_000),
              {"contender": "pytorch[cuda]", "dtype": "float32", "optimizer": "momentum",
               "error": "exit 1"}, sweep("xpnet[cupy] fit", "momentum", 60_000)]
    found = {target: met for target, _, _, _, met in report.widest_targets(sweeps)}
    assert found == {"widest xpnet[cupy] fit >= 1.5x PyTorch's W (sgd)": True,
                     "widest xpnet[cupy] fit >= 1.0x PyTorch's W (adam)": False}


def test_an_optimizer_narrows_the_contenders_to_those_that_take_one():
    from benchmarks.suite import contenders

    assert set(contenders("numpy", "cpu", True, optimizer="adam")) == {"xpnet[numpy] fit",
                                                                       "pytorch[cpu]"}
    found = memory.measure_in_subprocess("xpnet[numpy] fit", [64, 32, 10], 16, "float32", "numpy",
                                         calls=2, optimizer="adam")
    assert found["oom"] is False and found["peak_bytes"] > 0, found


@pytest.mark.gpu
def test_the_benchmarks_draw_cupy_weights_on_the_device_at_he_scale():
    import xpnet

    params = steps.initial_params([256, 512, 10], "float32", xpnet.backend.resolve_backend("cupy"))
    assert {k: (tuple(v.shape), str(v.dtype)) for k, v in params.items()} == {
        "W1": ((512, 256), "float32"), "b1": ((512, 1), "float32"),
        "W2": ((10, 512), "float32"), "b2": ((10, 1), "float32")}
    assert float(params["W1"].std()) == pytest.approx((2 / 256) ** 0.5, rel=0.05)


def test_a_run_stopped_by_hand_writes_what_it_measured(monkeypatch, tmp_path):
    pytest.importorskip("threadpoolctl")
    from benchmarks import run

    real = run.run_config
    done = []

    def stopped_after_one(*args, **kwargs):
        if done:
            raise KeyboardInterrupt
        done.append(real(*args, **kwargs))
        return done[-1]

    monkeypatch.setattr(run, "run_config", stopped_after_one)
    assert run.main(["--quick", "--dtype", "float32", "float64", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "quick.json").read_text())
    assert results["interrupted"] and [r["dtype"] for r in results["rows"]] == ["float32"]
    assert "**Interrupted**" in (tmp_path / "quick.md").read_text()


def test_the_widest_sweep_start_must_be_on_its_grid():
    from benchmarks import run

    with pytest.raises(SystemExit):
        run._parse(["--widest-start", "1000"])
    assert run._parse(["--widest-start", "16384"]).widest_start == 16384


def test_the_breakdown_times_each_part_of_the_step(tmp_path):
    from benchmarks import breakdown

    assert breakdown.main(["--width", "16", "--batch", "8", "--repeat", "1", "--out", str(tmp_path),
                           "--name", "parts"]) == 0
    facts = json.loads((tmp_path / "parts.json").read_text())
    parts = {row["part"]: row["median_ms"] for row in facts["rows"]}
    assert facts["dims"] == [1024, 16, 16, 10] and all(ms > 0 for ms in parts.values())
    assert {"step: forward_prop", "step: backprop", "fit: backward + fused update",
            "layer 2: dZ @ A.T (dW)"} <= set(parts)
    assert "| layer 2: relu backward |" in (tmp_path / "parts.md").read_text()
    assert {"fit: gather a batch (rows, shuffled)", "fit: loss and hits of a batch"} <= set(parts)


def test_the_breakdown_of_fit_calls_spans_the_same_steps_in_short_and_long_epochs(monkeypatch):
    from benchmarks import breakdown

    # 28 epochs of 8 batches, as a GPU call at W=1024, round up to 32 = 4 epochs of 64.
    monkeypatch.setattr(breakdown.suite, "fit_epochs", lambda dims, batch, backend: 28)
    rows = breakdown.fit_rows([1024, 16, 16, 10], 8, "float32", "numpy", 1)
    assert [row["part"] for row in rows] == ["fit: per step, 32 epoch(s) of 8 batches in a call",
                                             "fit: per step, 4 epoch(s) of 64 batches in a call"]
    assert all(row["median_ms"] > 0 for row in rows)


def test_tf32_timings_without_a_gpu_exit_with_the_reason(tmp_path):
    from benchmarks import run

    if xpnet.gpu_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(SystemExit, match="TF32 is a CUDA GPU mode"):
        run.main(["--quick", "--tf32", "--out", str(tmp_path)])
    assert not list(tmp_path.iterdir()), "nothing written"


def test_fit_calls_on_a_gpu_last_long_enough_to_spread_their_set_up():
    from benchmarks.suite import CONFIGS, GPU_FLOPS, FIT_BATCHES, fit_epochs, flops_per_step

    assert [fit_epochs(*CONFIGS[name]) for name in ("small", "medium", "wide")] == [32, 8, 1]
    for width, expected in ((1024, 28), (2048, 9), (4096, 2), (8192, 1), (16384, 1)):
        dims = [1024, width, width, 10]
        epochs = fit_epochs(dims, 4096, "cupy")
        assert epochs == expected
        # At the assumed GPU speed a call lasts about half a second, or one epoch at least.
        seconds = epochs * FIT_BATCHES * flops_per_step(dims, 4096) / GPU_FLOPS
        assert seconds <= 0.5 or epochs == 1


def test_the_revision_timer_measures_the_suites_networks(tmp_path):
    import importlib.util

    path = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "step_time.py"
    spec = importlib.util.spec_from_file_location("step_time", path)
    step_time = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(step_time)
    from benchmarks.suite import CONFIGS
    assert all(step_time.CONFIGS[name] == CONFIGS[name] for name in step_time.CONFIGS)
    out = tmp_path / "times.jsonl"
    out.write_text("".join(
        json.dumps({"label": label, "config": "small", "dtype": "float32", "part": "step",
                    "seconds": seconds}) + "\n"
        for label, times in (("a", (1.0, 3.0, 2.0)), ("b", (4.0, 4.0))) for seconds in times))
    table = step_time.summarize(out)
    assert "| small | float32 | step | 2000.000 | 4000.000 | 2.000x (2 runs) |" in table


def test_the_small_cpu_benchmark_interleaves_xpnet_and_numpy(monkeypatch, tmp_path):
    from benchmarks import small_cpu

    monkeypatch.setattr(small_cpu, "CONFIGS", {"small": ([16, 8, 4], 8)})
    monkeypatch.setattr(small_cpu, "fit_epochs", lambda dims, batch: 1)
    monkeypatch.setattr(small_cpu, "STEP_CALLS", 2)
    out = tmp_path / "small-cpu.md"
    assert small_cpu.main(["--rounds", "3", "--dtype", "float32", "--out", str(out),
                           "--note", "shared machine"]) == 0
    text = out.read_text()
    assert "BLAS that ran (threadpoolctl)" in text and "- shared machine" in text
    rows = [line for line in text.splitlines() if line.startswith("| float32 |")]
    assert [row.split(" | ")[1] for row in rows] == ["public step vs NumPy step",
                                                      "`fit` vs NumPy loop"]
    assert all(float(row.split(" | ")[4].rstrip("x")) > 0 for row in rows)
    assert small_cpu.summary({"xpnet": [2.0, 3.0, 9.0], "numpy": [1.0, 3.0, 3.0]}) == \
        (3000.0, 3000.0, 2.0, 1.0)
