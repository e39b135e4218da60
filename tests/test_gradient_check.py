"""xpnet.gradient_check: backprop against central differences, for every activation and loss,
on every backend; and the check itself: that it fails on a wrong gradient, and its errors."""

import contextlib
import io
import pathlib
import re

import numpy as np
import pytest

import xpnet
from xpnet import activations, gradients
from xpnet.activations import ACTIVATIONS
from xpnet.gradcheck import STEP, TOLERANCES

from conftest import random_targets

NETWORKS = [[3, 4, 2], [2, 5, 4, 3], [4, 3, 3, 3, 2]]


def problem(xp, layer_dims, output, seed, dtype="float64", m=7):
    """``(params, X, Y)`` on ``xp``: a network with non-zero biases (so their gradients are
    not trivially tested) and data for it, drawn on the host."""
    rng = np.random.RandomState(seed)
    X = rng.randn(layer_dims[0], m)
    Y = random_targets(rng, output, layer_dims[-1], m)
    params = xpnet.init_params(layer_dims, seed=seed, scale=0.8, backend="numpy")
    for key in params:
        if key.startswith("b"):
            params[key] = rng.randn(*params[key].shape) * 0.5
    return ({key: xpnet.asarray(value, xp, dtype) for key, value in params.items()},
            xpnet.asarray(X, xp, dtype), xpnet.asarray(Y, xp, dtype))


def check(xp, layer_dims, hidden, output, seed, dtype="float64", **options):
    params, X, Y = problem(xp, layer_dims, output, seed, dtype)
    return xpnet.gradient_check(params, X, Y, hidden=hidden, output=output, **options)


@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
@pytest.mark.parametrize("layer_dims", NETWORKS, ids=str)
def test_backprop_matches_finite_differences_for_each_hidden_activation(xp, hidden, layer_dims):
    report = check(xp, layer_dims, hidden, "sigmoid", seed=len(layer_dims))
    assert report.passed and report.max_relative_error < 1e-7, str(report)


@pytest.mark.parametrize("output", sorted(ACTIVATIONS))
@pytest.mark.parametrize("layer_dims", NETWORKS, ids=str)
def test_backprop_matches_finite_differences_for_each_output_and_loss(xp, output, layer_dims):
    report = check(xp, layer_dims, "tanh", output, seed=10 + len(layer_dims))
    assert report.passed and report.max_relative_error < 1e-7, str(report)


@pytest.mark.parametrize("output", sorted(ACTIVATIONS))
def test_a_float32_backward_pass_is_within_its_tolerance_of_the_exact_gradient(xp, output):
    report = check(xp, [2, 5, 4, 3], "leaky_relu", output, seed=4, dtype="float32")
    assert report.dtype == "float32" and report.tolerance == TOLERANCES["float32"]
    assert report.passed, str(report)


def test_weight_decay_enters_the_checked_gradient(xp):
    report = check(xp, [3, 4, 2], "tanh", "softmax", seed=1, weight_decay=0.3)
    assert report.passed and report.weight_decay == 0.3, str(report)


def test_a_gradient_that_leaves_out_weight_decay_fails(monkeypatch):
    def without_decay(self):
        return self.dZ @ self.A_prev.T

    monkeypatch.setattr(gradients.WeightGradient, "value", without_decay)
    report = check("numpy", [3, 4, 2], "tanh", "softmax", seed=1, weight_decay=0.3)
    assert not report.passed
    assert {e.name for e in report.errors if e.relative_error > report.tolerance} == {"dW1", "dW2"}


def test_a_wrong_activation_derivative_fails_and_is_named(monkeypatch):
    # The check itself must be able to fail: break relu's derivative and expect it to notice.
    broken = activations.Activation("relu", activations.relu, lambda dA, A: dA)
    monkeypatch.setitem(activations.ACTIVATIONS, "relu", broken)
    report = check("numpy", [3, 4, 2], "relu", "sigmoid", seed=0)
    assert not report.passed and report.max_relative_error > 1e-3
    assert report.worst.name in {"dW1", "db1", "dA0"}
    assert "FAILED" in str(report) and "FAIL\n" in str(report)


def test_a_vanishing_layer_gradient_is_judged_against_the_networks_largest():
    # db1 is ~1e-6 while the output layer's gradient is ~4e-3: finite differences see db1
    # only to the cost's rounding (~1e-11), which is 1e-5 of db1 itself but 3e-9 of the
    # network's gradient scale.
    report = check("numpy", [4, 3, 3, 3, 2], "sigmoid", "leaky_relu", seed=1)
    db1 = next(e for e in report.errors if e.name == "db1")
    scale = max(e.largest for e in report.errors)
    assert db1.largest < 1e-3 * scale
    assert db1.relative_error == pytest.approx(db1.max_abs_error / scale, rel=1e-6)
    assert report.passed, str(report)


def test_the_report_has_a_row_per_gradient_and_a_readable_table():
    report = check("numpy", [2, 5, 4, 3], "tanh", "softmax", seed=3)
    assert [e.name for e in report.errors] == ["dW1", "db1", "dW2", "db2", "dW3", "db3", "dA0"]
    assert [e.shape for e in report.errors] == [(5, 2), (5, 1), (4, 5), (4, 1), (3, 4), (3, 1), (2, 7)]
    assert report.eps == STEP and report.tolerance == 1e-7 and report.backend == "numpy"
    text = str(report)
    assert text.splitlines()[0].startswith("gradient check on numpy, float64: hidden tanh, output softmax")
    assert len(text.splitlines()) == 2 + 7 + 1 and text.splitlines()[-1].startswith("passed")


def test_the_check_leaves_its_inputs_unchanged(xp):
    params, X, Y = problem(xp, [3, 4, 2], "sigmoid", seed=2)
    before = {key: np.array(xpnet.to_numpy(value), copy=True) for key, value in
              {**params, "X": X, "Y": Y}.items()}
    xpnet.gradient_check(params, X, Y, hidden="relu")
    for key, value in {**params, "X": X, "Y": Y}.items():
        np.testing.assert_array_equal(xpnet.to_numpy(value), before[key])


@pytest.mark.parametrize("options, error, message", [
    ({"hidden": "relux"}, ValueError, "unknown hidden activation 'relux'; valid names are"),
    ({"output": "soft"}, ValueError, "unknown output activation 'soft'; valid names are"),
    ({"eps": 0.0}, ValueError, "eps must be"),
    ({"tol": -1.0}, ValueError, "tol must be"),
    ({"weight_decay": -0.1}, ValueError, "weight_decay must be"),
])
def test_bad_options_are_refused_naming_the_argument(options, error, message):
    params, X, Y = problem("numpy", [3, 4, 2], "sigmoid", seed=0)
    with pytest.raises(error, match=message):
        xpnet.gradient_check(params, X, Y, **options)


def test_data_that_does_not_fit_the_network_is_refused_with_the_fix():
    params, X, Y = problem("numpy", [3, 4, 2], "softmax", seed=0)
    with pytest.raises(ValueError, match=r"X has 2 rows \(features\) but the network expects 3"):
        xpnet.gradient_check(params, X[:2], Y, output="softmax")
    with pytest.raises(ValueError, match=r"Y has shape \(2, 6\) but AL has shape \(2, 7\)"):
        xpnet.gradient_check(params, X, Y[:, :6], output="softmax")
    with pytest.raises(ValueError, match="Y must be one-hot"):
        xpnet.gradient_check(params, X, 2 * Y, output="softmax")
    with pytest.raises(TypeError, match="convert X with xpnet.asarray"):
        xpnet.gradient_check(params, xpnet.asarray(X, dtype="float32"), Y, output="softmax")


def test_arrays_of_two_backends_are_refused():
    pytest.importorskip("array_api_strict")
    params, X, Y = problem("numpy", [3, 4, 2], "sigmoid", seed=0)
    with pytest.raises(TypeError, match="arrays from different backends"):
        xpnet.gradient_check(params, xpnet.asarray(X, "array_api_strict"), Y)


def test_a_dtype_without_a_default_tolerance_asks_for_one():
    torch = pytest.importorskip("torch")
    params, X, Y = problem("torch", [3, 4, 2], "identity", seed=0)
    params = {key: value.to(torch.float16) for key, value in params.items()}
    with pytest.raises(ValueError, match="no default tolerance for float16 parameters; pass tol="):
        xpnet.gradient_check(params, X.to(torch.float16), Y, output="identity")


def readme_example_and_output():
    """The README's gradient_check example (a python block) and the output shown after it."""
    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    code, shown = re.search(r"```python\n([^`]*?xpnet\.gradient_check\(params, X, Y[^`]*?)```\n\n"
                            r"```text\n(.*?)```", readme, flags=re.DOTALL).groups()
    return code, shown


def test_the_readme_shows_what_its_example_prints():
    code, shown = readme_example_and_output()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md gradient_check example", "exec"), {})
    actual, expected = printed.getvalue().splitlines(), shown.splitlines()
    assert len(actual) == len(expected)
    # Everything but the errors themselves (rounding noise, which another BLAS may change
    # in its last digit) must be as shown.
    for line, shown_line in zip(actual, expected):
        if re.match(r"  d[WbA]\d", line):
            columns, shown_columns = line.split(), shown_line.split()
            assert columns[:4] + columns[-1:] == shown_columns[:4] + shown_columns[-1:]
            assert float(shown_columns[-2]) < 1e-7
        elif line.startswith("passed: "):
            assert shown_line.startswith("passed: largest relative error ")
        elif re.fullmatch(r"d[WbA]\d \de-\d\d", line):  # the worst gradient and its error
            assert re.fullmatch(r"d[WbA]\d \de-\d\d", shown_line)
        else:
            assert line == shown_line
