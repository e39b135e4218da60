"""Hostile command lines: bad usage exits 2 with the usage, bad files exit 1 with one line,
and no output file is overwritten or half-written."""

import socket

import numpy as np
import pytest

import xpnet
import xpnet.cli
from xpnet.cli import main

QUICK = ["--epochs", "1", "--layers", "4"]


def run_cli(capsys, *args):
    """``(exit status, stdout, stderr)`` of ``xpnet ARGS`` run in this process."""
    try:
        status = main(list(args))
    except SystemExit as exc:  # argparse's way out for bad usage
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


BAD_USAGE = {
    "no command": ([], "required"),
    "unknown command": (["fly"], "invalid choice"),
    "unknown flag": (["train", "--bogus"], "unrecognized arguments: --bogus"),
    "epochs zero": (["train", "--epochs", "0"], "--epochs: must be >= 1"),
    "epochs not a number": (["train", "--epochs", "ten"], "--epochs"),
    "negative lr": (["train", "--lr", "-1"], "--lr: must be a finite number > 0"),
    "nan lr": (["train", "--lr", "nan"], "--lr: must be a finite number > 0"),
    "infinite lr": (["train", "--lr", "inf"], "--lr: must be a finite number > 0"),
    "batch size zero": (["train", "--batch-size", "0"], "--batch-size: must be >= 1"),
    "layer of width zero": (["train", "--layers", "0"], "--layers: must be >= 1"),
    "no layer widths": (["train", "--layers"], "--layers"),
    "unknown activation": (["train", "--hidden", "swish"], "invalid choice: 'swish'"),
    "unknown optimizer": (["train", "--optimizer", "lbfgs"], "invalid choice: 'lbfgs'"),
    "unknown backend": (["train", "--backend", "tensorflow"], "invalid choice: 'tensorflow'"),
    "unknown dataset": (["train", "--dataset", "cifar"], "invalid choice: 'cifar'"),
    "float16": (["train", "--dtype", "float16"], "invalid choice: 'float16'"),
    "negative seed": (["train", "--seed", "-1"], "--seed: must be an int in [0, 2**32)"),
    "huge seed": (["demo", "--seed", str(2**40)], "--seed: must be an int in [0, 2**32)"),
    "checkpoint every zero": (["train", "--checkpoint", "c.npz", "--checkpoint-every", "0"],
                              "--checkpoint-every: must be >= 1"),
    "resume without a checkpoint": (["train", "--resume"], "--resume needs --checkpoint"),
    "demo samples zero": (["demo", "--samples", "0"], "--samples: must be >= 1"),
    "demo hidden sizes not numbers": (["demo", "--hidden-sizes", "a"], "--hidden-sizes"),
}


@pytest.mark.parametrize("args, words", BAD_USAGE.values(), ids=BAD_USAGE.keys())
def test_bad_usage_exits_2_with_the_usage_and_no_traceback(hostile, capsys, tmp_path,
                                                           monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    status, out, err = run_cli(capsys, *args)
    assert status == 2 and "usage:" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    hostile.refused(err, words)


def write_random_bytes(path):
    path.write_bytes(np.random.RandomState(0).bytes(3000))


def write_truncated_checkpoint(path):
    main(["train", *QUICK, "--checkpoint", str(path)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def write_params_file(path):
    xpnet.save_params(path, xpnet.init_params([64, 4, 10]))


CORRUPT_CHECKPOINTS = {
    "empty": (lambda p: p.write_bytes(b""), "not a readable zip"),
    "random bytes": (write_random_bytes, "not a readable zip"),
    "truncated": (write_truncated_checkpoint, ""),
    "a parameters file": (write_params_file, "not a training checkpoint"),
}


@pytest.mark.parametrize("write, words", CORRUPT_CHECKPOINTS.values(), ids=CORRUPT_CHECKPOINTS.keys())
def test_a_corrupt_checkpoint_to_resume_exits_1_with_one_line_naming_it(hostile, capsys, tmp_path,
                                                                       write, words):
    path = tmp_path / "run.npz"
    write(path)
    capsys.readouterr()
    before = hostile.snapshot(path)
    status, _, err = run_cli(capsys, "train", *QUICK, "--checkpoint", str(path), "--resume")
    assert status == 1 and err.count("\n") == 1 and "Traceback" not in err
    hostile.intact(path, before)
    hostile.refused(err, str(path), words)


def test_a_checkpoint_from_other_settings_exits_1_naming_the_difference(hostile, capsys, tmp_path):
    path = tmp_path / "run.npz"
    run_cli(capsys, "train", *QUICK, "--checkpoint", str(path))
    before = hostile.snapshot(path)
    status, _, err = run_cli(capsys, "train", *QUICK, "--lr", "0.5", "--checkpoint", str(path),
                             "--resume")
    assert status == 1 and err.count("\n") == 1
    hostile.intact(path, before)
    hostile.refused(err, "lr=0.01 there, 0.5 here", "same settings")


def make_outputs(tmp_path, save, plot, checkpoint):
    """Paths for --save/--plot/--checkpoint from short names; 'dir' is an existing directory."""
    def path(name):
        if name is None:
            return None
        if name == "dir":
            return tmp_path
        return tmp_path / name
    return path(save), path(plot), path(checkpoint)


BAD_OUTPUTS = {
    "save equals checkpoint": (("same.npz", None, "same.npz"), False, "--save and --checkpoint"),
    "save equals plot": (("same.png", "same.png", None), False, "--save and --plot"),
    "existing save without --force": (("old.npz", None, None), True, "pass --force"),
    "existing plot without --force": ((None, "old.png", None), True, "pass --force"),
    "existing checkpoint without --resume": ((None, None, "old.npz"), True, "--resume"),
    "save is a directory": (("dir", None, None), False, "is a directory"),
    "checkpoint is a directory": ((None, None, "dir"), False, "is a directory"),
    "save in a missing directory": (("missing/x.npz", None, None), False, "not an existing directory"),
}


@pytest.mark.parametrize("names, existing, words", BAD_OUTPUTS.values(), ids=BAD_OUTPUTS.keys())
def test_unusable_output_paths_exit_1_before_training_and_touch_nothing(hostile, capsys, tmp_path,
                                                                        names, existing, words):
    save, plot, checkpoint = make_outputs(tmp_path, *names)
    if existing:
        for target in (save, plot, checkpoint):
            if target is not None:
                target.write_bytes(b"precious")
    before = {p: hostile.snapshot(p) for p in tmp_path.rglob("*") if p.is_file()}
    args = ["train", *QUICK]
    for flag, target in (("--save", save), ("--plot", plot), ("--checkpoint", checkpoint)):
        if target is not None:
            args += [flag, str(target)]
    status, out, err = run_cli(capsys, *args)
    assert status == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "epochs in" not in out  # refused before training, not after
    for p, data in before.items():
        hostile.intact(p, data)
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == sorted(before)
    hostile.refused(err, words)


def test_a_plot_path_of_no_image_format_exits_1_before_training(hostile, capsys, tmp_path):
    pytest.importorskip("matplotlib")
    status, out, err = run_cli(capsys, "train", *QUICK, "--save", str(tmp_path / "m.npz"),
                               "--plot", str(tmp_path / "out.txt"))
    assert status == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "epochs in" not in out and not list(tmp_path.iterdir())  # refused before training
    hostile.refused(err, "--plot", "out.txt", "cannot draw a 'txt' file", ".png")


def test_force_overwrites_an_existing_save_file(hostile, capsys, tmp_path):
    target = tmp_path / "params.npz"
    target.write_bytes(b"old")
    status, _, _ = run_cli(capsys, "train", *QUICK, "--save", str(target), "--force")
    assert status == 0
    params, metadata = xpnet.load_params(target)
    assert metadata["dataset"] == "digits" and params["W1"].shape == (4, 64)
    hostile.handled()


def test_force_keeps_the_old_checkpoint_when_the_new_run_fails_before_saving(
        hostile, capsys, tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    run_cli(capsys, "train", *QUICK, "--checkpoint", str(path))
    before = hostile.snapshot(path)

    def unreachable(seed):
        raise OSError("could not download the dataset")

    monkeypatch.setitem(xpnet.cli.DATASETS, "digits", unreachable)
    status, _, err = run_cli(capsys, "train", *QUICK, "--checkpoint", str(path), "--force")
    assert status == 1
    hostile.intact(path, before)
    hostile.refused(err, "could not download")


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mnist_offline_without_a_cache_exits_1_with_one_line(hostile, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XPNET_MNIST_URL", f"http://127.0.0.1:{closed_port()}/")
    pytest.importorskip("pooch")
    status, _, err = run_cli(capsys, "train", "--dataset", "mnist", *QUICK)
    # The downloader's progress line may come first; the error itself is one line.
    assert status == 1 and err.count("xpnet train: error:") == 1 and "Traceback" not in err
    assert err.endswith("\n") and err.splitlines()[-1].startswith("xpnet train: error:")
    hostile.refused(err, "mnist")
