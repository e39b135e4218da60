"""``xpnet gradcheck``: every hidden activation x output on each backend, and its exit status."""

import pathlib
import re

import pytest

from xpnet import activations
from xpnet.activations import HIDDEN_ACTIVATIONS
from xpnet.cli import gradcheck as gradcheck_command
from xpnet.cli import main
from xpnet.errors import BackendUnavailableError
from xpnet.gradcheck import gradient_check
from xpnet.outputs import OUTPUTS


def grid(text, backend):
    """``{(hidden, output): (error, passed)}`` from the table printed for ``backend``: after
    the row labels (16 characters), a cell of 12 characters per output, its last one "!"
    for a failure."""
    lines = text.split(f"\n{backend}:\n", 1)[1].splitlines()
    outputs = lines[0].split()[1:]
    cells = {}
    for line in lines[1:1 + len(HIDDEN_ACTIVATIONS)]:
        hidden, row = line[:16].strip(), line[16:].ljust(12 * len(outputs))
        for i, output in enumerate(outputs):
            cell = row[12 * i:12 * (i + 1)]
            cells[hidden, output] = float(cell[:11]), cell[11] != "!"
    return cells


def test_every_hidden_activation_and_output_passes_on_numpy(capsys):
    assert main(["gradcheck", "--backend", "numpy"]) == 0
    out = capsys.readouterr().out
    cells = grid("\n" + out, "numpy")
    assert set(cells) == {(h, o) for h in HIDDEN_ACTIVATIONS for o in OUTPUTS}
    assert all(error < 1e-7 and passed for error, passed in cells.values())
    assert f"{len(cells)} of {len(cells)} checks passed on 1 backend(s)" in out


def test_the_table_shows_the_checks_own_errors(capsys):
    main(["gradcheck", "--backend", "numpy", "--seed", "5"])
    cells = grid("\n" + capsys.readouterr().out, "numpy")
    params, X, Y = gradcheck_command.random_problem(gradcheck_command.LAYER_DIMS, "softmax", 6, 5,
                                                    "numpy", "float64")
    report = gradient_check(params, X, Y, hidden="tanh", output="softmax")
    assert cells["tanh", "softmax"][0] == float(f"{report.max_relative_error:.1e}")


def test_a_wrong_derivative_fails_the_command_and_shows_its_report(capsys, monkeypatch):
    broken = activations.Activation("tanh", activations.tanh, lambda dA, A: dA)
    monkeypatch.setitem(activations.ACTIVATIONS, "tanh", broken)
    assert main(["gradcheck", "--backend", "numpy"]) == 1
    out = capsys.readouterr().out
    cells = grid("\n" + out, "numpy")
    # Every check that uses tanh fails: as the hidden activation or as the output's.
    assert {key for key, (_, passed) in cells.items() if not passed} == \
        {key for key in cells if "tanh" in key}
    assert "gradient check on numpy, float64: hidden tanh" in out and "FAILED" in out
    assert "20 of 30 checks passed" in out


def test_a_backend_that_cannot_run_is_listed_as_skipped_with_its_reason(capsys, monkeypatch):
    real = gradcheck_command.resolve_backend

    def resolve(name):
        if name == "torch":
            raise BackendUnavailableError("the package 'torch' cannot be imported (test)")
        return real(name)

    monkeypatch.setattr(gradcheck_command, "resolve_backend", resolve)
    assert main(["gradcheck", "--backend", "numpy", "torch"]) == 0
    out = capsys.readouterr().out
    assert "torch: skipped: the package 'torch' cannot be imported (test)" in out
    assert out.rstrip().endswith("30 of 30 checks passed on 1 backend(s); skipped: torch")
    assert main(["gradcheck", "--backend", "torch"]) == 1
    assert "no backend could run the check" in capsys.readouterr().out


def test_float32_and_weight_decay_are_checked_with_float32s_tolerance(capsys):
    assert main(["gradcheck", "--backend", "numpy", "--dtype", "float32",
                 "--weight-decay", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "float32, seed 0, weight_decay 0.1" in out and "(tolerance 1e-05;" in out


@pytest.mark.parametrize("args, message", [
    (["--weight-decay", "-1"], "must be a finite number >= 0"),
    (["--backend", "auto"], "invalid choice: 'auto'"),
    (["--dtype", "float16"], "invalid choice: 'float16'"),
])
def test_bad_options_exit_2_with_usage(capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["gradcheck", *args])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_help_describes_the_command_and_its_options(capsys):
    with pytest.raises(SystemExit):
        main(["gradcheck", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: xpnet gradcheck")
    for flag in ("--backend", "--dtype", "--samples", "--weight-decay", "--seed"):
        assert flag in out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "gradcheck" in capsys.readouterr().out


def test_the_readme_shows_the_commands_real_output(capsys):
    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    shown = re.search(r"```text\n(gradient check, layers .*?)```", readme, flags=re.DOTALL).group(1)
    assert main(["gradcheck", "--backend", "numpy"]) == 0
    out = capsys.readouterr().out
    assert shown.splitlines()[:2] == out.splitlines()[:2]
    shown_cells, cells = grid("\n" + shown, "numpy"), grid("\n" + out, "numpy")
    assert shown_cells.keys() == cells.keys()
    # The errors are rounding noise; another machine's BLAS may change their last digits.
    for key, (error, passed) in shown_cells.items():
        assert passed and error < 1e-7 and abs(error - cells[key][0]) < 1e-9
    total = len(shown.split("\n  hidden/output")) - 1
    per_backend = len(HIDDEN_ACTIVATIONS) * len(OUTPUTS)
    assert shown.rstrip().splitlines()[-1].startswith(
        f"{per_backend * total} of {per_backend * total} checks passed on {total} backend(s)")
