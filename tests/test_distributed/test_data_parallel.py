"""fit(comm=...) on real MPI ranks: the same training as one process, and no hang when a
rank fails."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xpnet

from .conftest import mpiexec, needs_mpi, run_ranks, worker_results

# A job that ends by itself ends within a few seconds, its processes' start included; one
# that hangs is killed at its time limit (60 s). The margin is for a loaded machine, where
# starting three interpreters alone has taken over 10 s.
QUICK = 30

pytestmark = [needs_mpi, pytest.mark.timeout(180)]


@pytest.mark.parametrize("ranks", [2, 3])
def test_fit_on_ranks_equals_fit_in_one_process(ranks, tmp_path):
    results = worker_results(ranks, "equivalence_worker.py", tmp_path)
    assert len(results) >= 6
    for case, found in results.items():
        assert found["ranks_identical"], case  # every rank holds bitwise the same weights
        assert found["max_relative_parameter_difference"] < 1e-12, (case, found)
        assert found["max_relative_history_difference"] < 1e-12, (case, found)
        assert found["stop_reason"][0] == found["stop_reason"][1], (case, found)
        assert all(mine == theirs for mine, theirs in found["history_lengths"]), (case, found)
        assert found["steps"] >= 20, (case, found)
    assert results["adam, validation, early stopping"]["stop_reason"] == ["early_stopping"] * 2


@pytest.mark.parametrize("mode, status", [
    ("raise in training", None), ("exit in training", None), ("killed in training", None),
    ("raise before fit", None), ("exit before fit", 4)])
def test_a_failing_rank_ends_the_whole_job_quickly_naming_the_rank(mode, status):
    done, seconds = run_ranks(3, "fault_worker.py", mode, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    if status is not None:
        assert done.returncode == status, output
    assert seconds < QUICK, (seconds, output)
    assert "finished" not in done.stdout, output
    if mode == "killed in training":
        # A killed process cannot speak for itself: mpiexec reports a process of the job by
        # its PID and signal (not always rank 1's: it kills the others as it cleans up).
        pids = re.findall(r"rank \d is process (\d+)", done.stdout)
        reported = re.search(r"PID (\d+) RUNNING", output)
        assert reported and reported.group(1) in pids and "Killed (signal 9)" in output, output
    else:  # xpnet's report, or MPICH's for an abort: "... - process 1"
        assert "rank 1 of 3" in output or "process 1" in output, output


@pytest.mark.parametrize("mode, expected", [
    ("different options", "rank 1 has lr 0.1 where rank 0 has 0.5"),
    ("different epochs", "rank 1 has epochs 4 where rank 0 has 3"),
    ("different data", "rank 1 has data"),
    ("bad data on one rank", "rank 1 of 2 failed while checking the data")])
def test_ranks_given_different_training_are_refused_on_every_rank(mode, expected):
    done, seconds = run_ranks(2, "fault_worker.py", mode, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert output.count("caught") == 2, output  # raised on both ranks: neither waits
    assert expected in output, output
    assert seconds < QUICK, (seconds, output)


@pytest.mark.parametrize("mode, caught", [
    ("the whole network on rank 0, None on rank 1", 2),
    ("an estimator saves where rank 0 cannot write", 2),
    ("a rank fails in the middle of the forward pass", 0)])
def test_ranks_holding_shares_never_wait_for_a_failed_one(mode, caught):
    done, seconds = run_ranks(2, "shares_fault_worker.py", mode, timeout=60)
    output = done.stdout + done.stderr
    assert seconds < QUICK, (seconds, output)
    assert output.count("caught") == caught and "finished" not in output, output
    # Refused on both ranks, the job ends normally; a failure of one ends the job.
    assert (done.returncode == 0) == (caught == 2), output


@pytest.mark.parametrize("ranks, parallel", [(2, "data"), (2, "tensor"), (3, "tensor")])
def test_a_paused_run_on_ranks_resumes_from_its_checkpoint(tmp_path, ranks, parallel):
    out = tmp_path / "result.json"
    done, _ = run_ranks(ranks, "checkpoint_worker.py", str(tmp_path), str(out), parallel,
                        timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["epochs"] == result["epochs_alone"] == 6
    assert result["difference"] < 1e-12, result
    # The checkpoint holds the whole run: one process resumes it as well.
    assert result["difference_resumed_alone"] < 1e-12, result


@pytest.mark.parametrize("ranks, parallel", [(2, ["data"]), (2, ["tensor"]),
                                             (4, ["grid", "--mesh", "2", "2"])])
def test_the_train_command_under_mpiexec_trains_as_one_process(tmp_path, ranks, parallel):
    model = tmp_path / "model.npz"
    command = ["-m", "xpnet", "train", "--epochs", "3", "--layers", "32", "16", "--save",
               str(model)]
    done, _ = run_ranks(ranks, *command, "--parallel", *parallel, timeout=120, module=False)
    assert done.returncode == 0, done.stdout + done.stderr
    alone = subprocess.run([sys.executable, *command[:-2]], capture_output=True, text=True,
                           timeout=120, env=dict(os.environ, OMP_NUM_THREADS="1"))
    final = [line.split(";")[:2] for line in done.stdout.splitlines() if line.startswith("final")]
    assert final == [line.split(";")[:2] for line in alone.stdout.splitlines()
                     if line.startswith("final")], (done.stdout, alone.stdout)  # rank 0 alone
    mesh = ", mesh 2 x 2" if parallel[0] == "grid" else ""
    assert f"x {ranks} processes ({parallel[0]} parallel{mesh})" in done.stdout, done.stdout
    assert model.exists()
    assert xpnet.load(model).predict(np.zeros((64, 1))).shape[-1] == 1  # the whole network


def test_a_tensor_parallel_train_command_checkpoints_what_one_process_resumes(tmp_path):
    checkpoint = str(tmp_path / "run.ckpt.npz")
    command = ["-m", "xpnet", "train", "--layers", "32", "16", "--epochs"]
    done, _ = run_ranks(2, *command, "2", "--parallel", "tensor", "--checkpoint", checkpoint,
                        timeout=120, module=False)
    assert done.returncode == 0, done.stdout + done.stderr
    env = dict(os.environ, OMP_NUM_THREADS="1")
    resumed, alone = (subprocess.run([sys.executable, *command, "3", *more], capture_output=True,
                                     text=True, timeout=120, env=env)
                      for more in (["--checkpoint", checkpoint, "--resume"], []))
    assert "resuming from" in resumed.stdout and "at epoch 2" in resumed.stdout, resumed.stdout
    final = [[line.split(";")[:2] for line in run.stdout.splitlines() if line.startswith("final")]
             for run in (resumed, alone)]
    assert final[0] == final[1] != [], (resumed.stdout, alone.stdout)


def test_a_train_command_failing_on_every_rank_ends_with_its_error(tmp_path):
    done, seconds = run_ranks(2, "-m", "xpnet", "train", "--data", str(tmp_path / "none.csv"),
                              timeout=60, module=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "none.csv" in done.stderr and seconds < QUICK


def test_the_readmes_examples_on_two_ranks(tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
              if b.startswith("# run with: mpiexec")]
    assert len(blocks) == 2  # data parallel, then tensor parallel (which goes on from it)
    script = tmp_path / "train_on_ranks.py"
    script.write_text("\n".join(blocks))
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    done = subprocess.run([mpiexec(), "-n", "2", sys.executable, "-m", "mpi4py", str(script)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 ranks: final loss" in done.stdout and (tmp_path / "moons.npz").exists()
    assert (tmp_path / "wide.npz").exists()
    assert "rank 0 holds W1 (32, 2) of (64, 2)" in done.stdout, done.stdout
    assert xpnet.load(tmp_path / "moons-clf.npz").params_["W1"].shape == (64, 2)


@pytest.mark.parametrize("ranks", [2, 3])
def test_tensor_parallel_fit_on_ranks_equals_the_unsplit_network(ranks, tmp_path):
    results = worker_results(ranks, "tensor_worker.py", tmp_path)
    for optimizer in ("sgd", "momentum", "adam"):
        assert results[optimizer]["steps"] >= 20
        assert results[optimizer]["difference"] < 1e-12, results
        assert results[optimizer]["loss_difference"] < 1e-12, results
    # Each rank holds about 1/N of the weights and activations (the output layer's
    # bias and the output itself are whole on every rank).
    for ratio in results["memory_ratios"]:
        assert 1 / ranks - 0.01 < ratio < 1 / ranks + 0.02, results["memory_ratios"]


@pytest.mark.parametrize("mode, caught", [("a logger on rank 0 alone", 0),
                                          ("warnings are errors, and it does not learn", 1)])
def test_what_differs_between_ranks_by_design_neither_hangs_nor_aborts(mode, caught):
    done, seconds = run_ranks(2, "fault_worker.py", mode, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 0 and seconds < QUICK, output
    # The warning is rank 0's alone (one per job): raised there, after the last collective.
    assert output.count("caught ConvergenceWarning") == caught, output
    assert output.count("finished") == 2 - caught, output


def test_a_train_command_that_did_not_learn_still_reports_and_saves(tmp_path):
    model = tmp_path / "m.npz"
    done, _ = run_ranks(2, "-m", "xpnet", "train", "--epochs", "6", "--lr", "1e-9", "--layers",
                        "8", "--save", str(model), timeout=120, module=False)
    assert done.returncode == 1, done.stdout + done.stderr  # it did not learn: exit status 1
    assert "final loss" in done.stdout and model.exists(), done.stdout + done.stderr
    assert "did not learn" in done.stderr


@pytest.mark.timeout(60)
def test_a_grid_on_four_processes_trains_and_checkpoints_as_one_process(tmp_path):
    """mesh=(2, 2) under mpiexec: every rank's share of the network, the whole network
    each tensor group's shares join into, the history, and a paused grid's checkpoint
    resumed on the grid or alone equal one process's run."""
    out = tmp_path / "result.json"
    done, seconds = run_ranks(4, "grid_worker.py", str(tmp_path), str(out), timeout=45)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert len(result["differences"]) == 4 and max(result["differences"]) < 1e-12, result
    # The first tensor group (ranks 0-1) joins the whole network on rank 0.
    assert result["joined"][1:] == [None] * 3 and result["joined"][0] < 1e-12, result
    assert result["difference_resumed_alone"] < 1e-12, result
    assert result["loss_difference"] < 1e-12, result
    assert result["epochs"] == [5, 5], result


def test_splits_are_made_once_per_communicator_never_for_a_reused_handle(tmp_path):
    out = tmp_path / "seen.json"
    done, seconds = run_ranks(4, "split_worker.py", str(out), timeout=45)
    assert done.returncode == 0 and seconds < QUICK, done.stdout + done.stderr
    seen = json.loads(out.read_text())
    assert [s["b"] for s in seen] == [[0, 2], [1, 3], [0, 2], [1, 3]]
    assert [s["d"] for s in seen] == [[0, 1], [0, 1], [2, 3], [2, 3]]
    assert all(s["again"] for s in seen)
