"""The benchmark suite runs (its --quick mode), so it never rots."""

import json
import subprocess
import sys
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_quick_benchmark_writes_its_tables(tmp_path):
    pytest.importorskip("threadpoolctl")
    result = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
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
