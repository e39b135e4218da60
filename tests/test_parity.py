"""Backend parity in CI: each CPU backend trains as NumPy does, to within the dtype's tolerance
after 20 steps, so a backend that drifts fails here."""

import functools
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks/ is not installed; import it from the checkout
from benchmarks import parity  # noqa: E402
from xpnet import activations  # noqa: E402
from xpnet.backend import array_namespace, backend_name  # noqa: E402

EPOCHS = parity.CHECKED_STEPS // parity.STEPS_PER_EPOCH


@functools.cache
def numpy_run(dtype):
    return parity.train("numpy", dtype, EPOCHS)


def trained(backend, dtype):
    run = parity.train(backend, dtype, EPOCHS)
    if run.skipped:
        pytest.skip(f"{backend} backend unavailable: {run.skipped}")
    return run


def test_twenty_steps_are_what_the_parity_check_reads():
    assert EPOCHS * parity.STEPS_PER_EPOCH == parity.CHECKED_STEPS == 20
    run = numpy_run("float64")
    assert len(run.params) == EPOCHS + 1 and len(run.losses) == EPOCHS


@pytest.mark.parametrize("dtype", parity.DTYPES)
@pytest.mark.parametrize("backend", ["array_api_strict", "torch", "jax"])
def test_a_cpu_backend_trains_as_numpy_does(backend, dtype):
    diffs = parity.differences(trained(backend, dtype), numpy_run(dtype))
    assert diffs["params"][0] == 0.0, "the same initial weights on every backend"
    assert max(diffs["params"] + diffs["loss"]) <= parity.TOLERANCES[dtype], diffs
    assert parity.verdict(diffs, dtype)


def test_a_backend_that_drifts_by_1e_11_fails(monkeypatch):
    # tanh off by 1e-11 (relative) on array-api-strict only: within float32's tolerance,
    # far outside float64's.
    tanh = activations.ACTIVATIONS["tanh"]

    def drifting(Z):
        A = activations.tanh(Z)
        return A * (1 + 1e-11) if backend_name(array_namespace(Z)) == "array_api_strict" else A

    monkeypatch.setitem(activations.ACTIVATIONS, "tanh",
                        activations.Activation("tanh", drifting, tanh.backward))
    pytest.importorskip("array_api_strict")
    for dtype, drifts in (("float64", True), ("float32", False)):
        diffs = parity.differences(parity.train("array_api_strict", dtype, EPOCHS),
                                   parity.train("numpy", dtype, EPOCHS))
        assert parity.verdict(diffs, dtype) is not drifts, (dtype, diffs)


def test_the_report_names_failures_and_the_backends_not_run(tmp_path, monkeypatch):
    rows = [{"backend": "torch", "dtype": "float64", "params": [0.0] + [1e-9] * 5,
             "loss": [1e-9] * 5, "passed": False},
            {"backend": "jax", "dtype": "float64", "skipped": "the package 'jax' cannot be imported"}]
    monkeypatch.setattr(parity, "compare", lambda epochs: rows)
    assert parity.run(tmp_path, epochs=5) == 1
    report = (tmp_path / "parity.md").read_text()
    assert "| torch | float64 | 1.0e-09 | 1.0e-09 | 1.0e-09 | 1.0e-09 | 1e-12 | **FAIL** |" in report
    assert "- jax: the package 'jax' cannot be imported" in report


def test_the_committed_report_states_the_tolerances_the_code_checks():
    report = (ROOT / "benchmarks" / "results" / "parity.md").read_text()
    stated = ", ".join(f"{d} {t:.0e}" for d, t in parity.TOLERANCES.items())
    assert f"for {parity.CHECKED_STEPS} steps (epoch {EPOCHS}): {stated}." in report
    assert "**FAIL**" not in report


def test_the_readme_shows_the_committed_reports_table():
    report = (ROOT / "benchmarks" / "results" / "parity.md").read_text().splitlines()
    readme = (ROOT / "README.md").read_text().splitlines()
    start = readme.index(next(line for line in report if line.startswith("| backend | dtype |")))
    shown = readme[start:readme.index("", start)]
    assert len(shown) > 2 and all(line in report for line in shown)
