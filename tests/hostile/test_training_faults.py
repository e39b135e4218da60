"""Hostile training runs: divergence, odd batch sizes, broken checkpoints, and processes
interrupted (SIGINT) or killed (SIGKILL) in the middle of training."""

import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import xpnet
import xpnet.cli
from xpnet.datasets import make_moons
from xpnet.errors import ModelFileError
from xpnet.io import read_checkpoint, read_model, write_model

MOONS = make_moons(60, noise=0.2, seed=2)


def settings(**changes):
    return {"epochs": 4, "lr": 0.05, "hidden": "relu", "scale": "he", "verbose": 0, **changes}


DIVERGING_RUNS = {
    # An unclipped loss turns inf/NaN at a mini-batch, which the error names.
    "regression loss": (dict(output="identity"), "mini-batch"),
    # A clipped cross-entropy stays finite while the weights blow up; caught at the epoch's end.
    "clipped classification loss": (dict(output="sigmoid"), "weights grew too large"),
}


@pytest.mark.parametrize("change, words", DIVERGING_RUNS.values(), ids=DIVERGING_RUNS.keys())
def test_a_huge_learning_rate_is_caught_and_no_nan_is_kept(hostile, change, words):
    with hostile.raises(xpnet.TrainingDivergedError, words, "lower the learning rate (lr)") as info:
        xpnet.fit(*MOONS, [2, 32, 1], **settings(lr=1e6, epochs=30, batch_size=4, **change))
    assert all(np.all(np.isfinite(xpnet.to_numpy(a))) for a in info.value.params.values())


def test_a_huge_learning_rate_in_the_cli_saves_nothing(hostile, tmp_path, capsys):
    target = tmp_path / "params.npz"
    status = xpnet.cli.main(["train", "--dataset", "moons", "--epochs", "5", "--lr", "1e6",
                             "--optimizer", "sgd", "--save", str(target)])
    err = capsys.readouterr().err
    assert status == 1 and not target.exists() and err.count("\n") == 1
    hostile.refused(err, "diverged", "lr")


@pytest.mark.parametrize("batch_size", [1, 7, 59, 60, 61, 10_000],
                         ids=lambda b: f"batch_size={b}")
def test_any_batch_size_from_one_to_more_than_the_samples_trains(hostile, batch_size):
    params, history = xpnet.fit(*MOONS, [2, 4, 1], **settings(batch_size=batch_size))
    assert history.epochs == 4 and all(np.isfinite(history.loss))
    if batch_size >= 60:  # one batch: the same run as the full batch
        full, full_history = xpnet.fit(*MOONS, [2, 4, 1], **settings(batch_size=None))
        assert full_history.loss == history.loss
    hostile.handled()


def test_a_ragged_last_batch_weighs_by_its_size(hostile):
    # lr so small that the weights do not move: the epoch's loss is then the full-batch cost.
    X, Y = MOONS
    params = xpnet.init_params([2, 4, 1], seed=1, scale="he")
    cost = float(xpnet.cost_function(xpnet.forward_prop(X, params, hidden="relu")[0], Y))
    _, history = xpnet.fit(X, Y, [2, 4, 1], **settings(lr=1e-300, seed=1, batch_size=7,
                                                       epochs=1))
    assert history.loss[0] == pytest.approx(cost, rel=1e-12)
    hostile.handled()


BAD_BATCH_SIZES = [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError),
                   ("32", TypeError)]


@pytest.mark.parametrize("batch_size, error", BAD_BATCH_SIZES, ids=lambda v: repr(v))
def test_a_bad_batch_size_is_refused(hostile, batch_size, error):
    with hostile.raises(error, "batch_size", ">= 1"):
        xpnet.fit(*MOONS, [2, 4, 1], **settings(batch_size=batch_size))


def test_a_callback_that_raises_keeps_the_last_checkpoint(hostile, tmp_path):
    path = tmp_path / "run.npz"

    def fail_in_epoch_2(epoch, logs, params):
        if epoch == 2:
            raise RuntimeError("the user's callback failed")

    with pytest.raises(RuntimeError, match="the user's callback failed"):
        xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, callbacks=[fail_in_epoch_2], **settings())
    assert read_checkpoint(path, np).epoch == 2
    hostile.handled()


def rewrite_checkpoint(path, change):
    arrays, header = read_model(path)
    for key in ("format", "format_version", "xpnet_version"):
        del header[key]
    change(arrays, header)
    write_model(path, arrays, header)


BROKEN_CHECKPOINTS = {
    "a parameter of another shape": (lambda a, h: a.update({"params/W1": np.zeros((3, 2))}),
                                     "do not match"),
    "a parameter missing": (lambda a, h: a.pop("params/b2"), "missing"),
    "a stray array": (lambda a, h: a.update({"extra/x": np.zeros(2)}), "no checkpoint has"),
    "optimizer state of another shape": (lambda a, h: a.update({"optimizer/m/W1": np.zeros(3)}),
                                         "optimizer arrays"),
    "optimizer step count missing": (lambda a, h: h["optimizer"].clear(), "step count"),
    "optimizer state of float32": (
        lambda a, h: a.update({"optimizer/v/W1": a["optimizer/v/W1"].astype(np.float32)}),
        "optimizer arrays"),
    "random state cut short": (lambda a, h: a.update({"rng/keys": a["rng/keys"][:10]}),
                               "random-number state"),
    "random state of another generator": (lambda a, h: h["rng"].update(algorithm="PCG64"),
                                          "random-number state"),
    "negative epoch": (lambda a, h: h.update(epoch=-1), "epoch"),
    "epoch as a string": (lambda a, h: h.update(epoch="3"), "'epoch'"),
    "history not a dict": (lambda a, h: h.update(history=[1, 2]), "'history'"),
    "history with foreign entries": (lambda a, h: h["history"].update(f1=[0.5]), "no entries"),
    "history with text losses": (lambda a, h: h["history"].update(loss=["low"]), "history.loss"),
    "random state position 10**30": (lambda a, h: h["rng"].update(position=10**30),
                                     "random-number state"),
    "random state has_gauss 5": (lambda a, h: h["rng"].update(has_gauss=5), "random-number state"),
    "optimizer step count 10**400": (lambda a, h: h["optimizer"].update(t=10**400), "step count"),
    "a history longer than the epochs": (lambda a, h: h["history"].update(loss=[0.5] * 50),
                                         "history holds 50 epochs"),
    "a billion epochs": (lambda a, h: h.update(epoch=10**9), "history holds 2 epochs"),
    "an unknown stop reason": (lambda a, h: h["history"].update(stop_reason="x" * 10**4),
                               "stop reason"),
    "ended by early stopping it never used": (
        lambda a, h: h["history"].update(stop_reason="early_stopping"), "early stopping"),
    "NaN in the optimizer state": (
        lambda a, h: a["optimizer/m/W1"].__setitem__((0, 0), np.nan), "NaN or infinity"),
}


@pytest.mark.parametrize("change, words", BROKEN_CHECKPOINTS.values(), ids=BROKEN_CHECKPOINTS.keys())
def test_a_broken_checkpoint_is_refused_naming_the_file(hostile, tmp_path, change, words):
    path = tmp_path / "run.npz"
    run = settings(optimizer="adam", batch_size=16)
    xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, **{**run, "epochs": 2})
    rewrite_checkpoint(path, change)
    before = hostile.snapshot(path)
    with hostile.raises(ModelFileError, str(path), words, "start a new run"):
        xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, resume=True, **run)
    hostile.intact(path, before)


TRAINING_SCRIPT = textwrap.dedent("""
    import sys, time
    import xpnet
    from xpnet.datasets import make_moons

    X, Y = make_moons(400, noise=0.2, seed=5)
    # The pause lets the test stop the process between epochs without changing the numbers.
    xpnet.fit(X, Y, [2, 16, 1], epochs=40, lr=0.02, batch_size=16, optimizer="adam",
              hidden="relu", scale="he", seed=9, verbose=0, checkpoint=sys.argv[1],
              resume=True, callbacks=[lambda *args: time.sleep(0.05)])
""")


def wait_for_epoch(path, epoch, process, timeout=60):
    """Wait until the checkpoint at ``path`` holds at least ``epoch`` epochs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and read_checkpoint(path, np).epoch >= epoch:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise TimeoutError(f"no checkpoint of epoch {epoch} within {timeout} s")


def test_a_run_killed_with_sigkill_resumes_bit_identical(hostile, tmp_path):
    path = tmp_path / "run.npz"
    script = tmp_path / "train.py"
    script.write_text(TRAINING_SCRIPT)
    process = subprocess.Popen([sys.executable, str(script), str(path)], stderr=subprocess.PIPE)
    wait_for_epoch(path, 3, process)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    killed_at = read_checkpoint(path, np).epoch
    assert 3 <= killed_at < 40
    X, Y = make_moons(400, noise=0.2, seed=5)
    run = dict(epochs=40, lr=0.02, batch_size=16, optimizer="adam", hidden="relu", scale="he",
               seed=9, verbose=0)
    resumed, history = xpnet.fit(X, Y, [2, 16, 1], checkpoint=path, resume=True, **run)
    # A kill in the middle of a write leaves its temporary file; the resumed run's saves remove it.
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    whole, whole_history = xpnet.fit(X, Y, [2, 16, 1], **run)
    assert history.loss == whole_history.loss
    for key in whole:
        np.testing.assert_array_equal(resumed[key], whole[key])
    hostile.handled()


CLI_RUN = ["-m", "xpnet", "train", "--dataset", "moons", "--batch-size", "2", "--layers", "8"]


def test_ctrl_c_exits_130_leaving_a_consistent_checkpoint(hostile, tmp_path):
    path, interrupted, whole = tmp_path / "run.npz", tmp_path / "a.npz", tmp_path / "b.npz"
    # So many epochs that the run cannot end before the interrupt; it is resumed with fewer.
    process = subprocess.Popen([sys.executable, *CLI_RUN, "--epochs", "100000",
                                "--checkpoint", str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_epoch(path, 1, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in err
    epoch = read_checkpoint(path, np).epoch
    assert f"holds the run up to epoch {epoch}" in err and "--resume" in err
    assert epoch < 40, "the interrupt came too late for this test"
    finish = subprocess.run([sys.executable, *CLI_RUN, "--epochs", "40", "--checkpoint", str(path),
                             "--resume", "--save", str(interrupted)],
                            capture_output=True, text=True, timeout=120)
    assert finish.returncode == 0, finish.stderr
    straight = subprocess.run([sys.executable, *CLI_RUN, "--epochs", "40", "--save", str(whole)],
                              capture_output=True, text=True, timeout=120)
    assert straight.returncode == 0, straight.stderr
    a, b = xpnet.load_params(interrupted)[0], xpnet.load_params(whole)[0]
    assert all(np.array_equal(a[key], b[key]) for key in b)
    hostile.refused(err, "interrupted", str(path))
