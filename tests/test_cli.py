"""The command line, run the way a user runs it."""

import subprocess
import sys

import numpy as np
import pytest

import xpnet
from xpnet.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "xpnet", *args], capture_output=True, text=True,
                          timeout=120)


def test_demo_trains_and_reports_accuracy():
    result = run("demo", "--epochs", "400", "--samples", "200")
    assert result.returncode == 0, result.stderr
    assert "numpy backend" in result.stdout
    accuracy = float(result.stdout.split("test accuracy ")[1].split("%")[0])
    assert accuracy > 85


def test_demo_on_an_unknown_backend_exits_2_with_the_choices():
    result = run("demo", "--backend", "tensorflow")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "invalid choice: 'tensorflow'" in result.stderr and "numpy" in result.stderr


def test_bad_option_value_exits_with_usage():
    result = run("demo", "--epochs", "0")
    assert result.returncode == 2 and "usage:" in result.stderr and "must be >= 1" in result.stderr


def test_info_lists_the_backends():
    result = run("info")
    assert result.returncode == 0
    assert "numpy             usable" in result.stdout
    assert "cupy" in result.stdout


def test_help_describes_every_command():
    result = run("--help")
    assert result.returncode == 0
    assert all(command in result.stdout for command in ("train", "demo", "info"))


def test_train_with_no_arguments_reaches_95_percent_on_the_shipped_digits():
    result = run("train")
    assert result.returncode == 0, result.stderr
    assert "digits (1438 train / 359 test samples)" in result.stdout
    accuracy = float(result.stdout.split("test accuracy ")[1].split("%")[0])
    assert accuracy >= 95
    assert "Traceback" not in result.stderr


def test_train_saves_parameters_and_curves(tmp_path):
    pytest.importorskip("matplotlib")
    model, curves = tmp_path / "model.npz", tmp_path / "curves.png"
    result = run("train", "--dataset", "blobs", "--layers", "8", "--epochs", "3",
                 "--save", str(model), "--plot", str(curves))
    assert result.returncode == 0, result.stderr
    params, metadata = xpnet.load_params(model)
    assert metadata["dataset"] == "blobs" and params.description["output"] == "softmax"
    assert metadata["training"]["output"] == "softmax"
    assert params["W1"].shape == (8, 2)
    assert curves.read_bytes()[:4] == b"\x89PNG"


def test_train_refuses_to_overwrite_without_force(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"precious")
    result = run("train", "--epochs", "1", "--save", str(target))
    assert result.returncode == 1 and "exists; pass --force" in result.stderr
    assert target.read_bytes() == b"precious"
    assert run("train", "--epochs", "1", "--save", str(target), "--force").returncode == 0
    assert xpnet.load_params(target)[1]["dataset"] == "digits"


@pytest.mark.parametrize("args, message", [
    (["train", "--dataset", "cifar"], "invalid choice: 'cifar'"),
    (["train", "--lr", "-1"], "must be a finite number > 0"),
    (["train", "--optimizer", "lion"], "invalid choice: 'lion'"),
    (["train", "--unknown-flag"], "unrecognized arguments"),
])
def test_bad_train_options_exit_2_with_usage(args, message):
    result = run(*args)
    assert result.returncode == 2 and "usage:" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["train", "demo", "info"])
def test_each_command_has_complete_help(command):
    result = run(command, "--help")
    assert result.returncode == 0 and result.stdout.startswith(f"usage: xpnet {command}")
    if command == "train":
        for flag in ("--dataset", "--layers", "--hidden", "--epochs", "--batch-size", "--lr",
                     "--optimizer", "--backend", "--dtype", "--seed", "--save", "--plot", "--force"):
            assert flag in result.stdout
        assert "80% train / 20% test" in " ".join(result.stdout.split())
    assert "%%" not in result.stdout, "a percent sign escaped where argparse does not unescape it"


def test_info_reports_the_gpu():
    assert "GPU:" in run("info").stdout


def test_train_checks_output_paths_before_training(tmp_path):
    result = run("train", "--save", str(tmp_path / "missing" / "model.npz"))
    assert result.returncode == 1 and "is not an existing directory" in result.stderr
    assert "final loss" not in result.stdout  # refused before any training


def test_a_run_that_did_not_learn_says_what_went_wrong_and_exits_1():
    result = run("train", "--lr", "100")
    assert result.returncode == 1
    assert "xpnet train: training did not learn in 30 epochs" in result.stderr
    assert "no better than always guessing the most common class" in result.stderr
    assert "try a smaller learning rate" in result.stderr and "Traceback" not in result.stderr


def test_softmax_is_no_hidden_activation_for_the_command_line():
    result = run("train", "--hidden", "softmax")
    assert result.returncode == 2 and "invalid choice: 'softmax'" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["train", "--lr", "abc"], "argument --lr: invalid positive number value: 'abc'"),
    (["train", "--epochs", "ten"], "argument --epochs: invalid positive integer value: 'ten'"),
    (["demo", "--seed", "1.5"], "argument --seed: invalid integer seed value: '1.5'"),
])
def test_a_value_that_is_no_number_is_named_in_words(args, message):
    result = run(*args)
    assert result.returncode == 2 and message in result.stderr


def train_in_process(capsys, *args):
    """``(exit status, stdout)`` of ``xpnet train ARGS`` on NumPy, run in this process."""
    status = main(["train", "--backend", "numpy", *args])
    return status, capsys.readouterr().out


def test_one_epoch_is_one_epoch_in_the_summary(capsys):
    status, out = train_in_process(capsys, "--dataset", "moons", "--epochs", "1", "--layers", "4")
    assert status == 0 and "; 1 epoch in " in out and "1 epochs" not in out


def test_a_small_final_loss_keeps_its_significant_digits(capsys):
    status, out = train_in_process(capsys, "--epochs", "60", "--layers", "128")
    loss = out.split("final loss ")[1].split(";")[0]
    assert status == 0 and float(loss) < 1e-3  # "0.0002" with four decimals
    mantissa = loss.split("e")[0].replace(".", "").lstrip("0")
    assert len(mantissa) == 4, loss


def test_a_resumed_run_says_how_many_epochs_it_trained_itself(capsys, tmp_path):
    quick = ["--dataset", "moons", "--layers", "4", "--checkpoint", str(tmp_path / "run.npz")]
    assert train_in_process(capsys, *quick, "--epochs", "2")[0] == 0
    status, out = train_in_process(capsys, *quick, "--epochs", "5", "--resume")
    assert status == 0 and f"resuming from {tmp_path / 'run.npz'} at epoch 2" in out
    assert "; 5 epochs (3 in this run, resumed at epoch 2) in " in out


def test_train_never_takes_a_saved_model_for_its_checkpoint(capsys, tmp_path):
    model = tmp_path / "model.npz"
    assert train_in_process(capsys, "--dataset", "moons", "--layers", "4", "--epochs", "1",
                            "--save", str(model))[0] == 0
    saved = model.read_bytes()
    for flag in ("--force", "--resume"):
        status = main(["train", "--backend", "numpy", "--dataset", "moons", "--layers", "4",
                       "--epochs", "1", "--checkpoint", str(model), flag])
        assert status == 1 and "holds a saved model" in capsys.readouterr().err
    assert model.read_bytes() == saved


@pytest.mark.parametrize("args, expected", [
    (["--parallel", "grid", "--mesh", "2", "2"], "launch it with mpiexec -n N"),
    (["--parallel", "tensor"], "launch it with mpiexec -n N"),
    (["--mesh", "2", "2"], "--parallel grid and --mesh N_DATA N_TENSOR go together")])
def test_train_refuses_to_split_the_layers_of_one_process(args, expected):
    result = run("train", "--epochs", "1", *args)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert expected in result.stderr, result.stderr


@pytest.mark.parametrize("command", [["info"], ["gradcheck", "--backend", "numpy"]])
def test_a_reader_that_stops_reading_ends_the_command_quietly(command):
    # `xpnet ... | head`: the pipe closes before the output is written
    process = subprocess.Popen([sys.executable, "-m", "xpnet", *command],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    with process.stderr:
        error = process.stderr.read().decode()
    assert process.wait(timeout=120) in (0, 1)
    assert "Broken pipe" not in error and "Traceback" not in error, error


def test_a_warning_is_one_line_naming_the_command(tmp_path):
    path = xpnet.save_params(tmp_path / "plain.npz", xpnet.init_params([2, 3, 1]))
    np.save(tmp_path / "X.npy", np.zeros((4, 2)))
    result = run("predict", path, tmp_path / "X.npy")
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("xpnet predict: warning: the model file does not record")
    assert result.stderr.count("\n") == 1, result.stderr
