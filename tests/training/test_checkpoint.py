"""Checkpoints: fit(checkpoint=..., resume=True) continues a run exactly where it stopped."""

import tracemalloc

import numpy as np
import pytest

import xpnet
from conftest import load_backend
from xpnet.datasets import make_blobs, make_moons
from xpnet.io import read_checkpoint

MOONS = make_moons(120, noise=0.2, seed=1)
RUNS = {
    "adam, shuffled mini-batches": dict(optimizer="adam", batch_size=16),
    "nesterov, validation split": dict(optimizer="nesterov", batch_size=25, validation_split=0.2),
    "sgd, step schedule, L2": dict(optimizer="sgd", batch_size=40, schedule="step", weight_decay=1e-3),
    "momentum, early stopping": dict(optimizer="momentum", batch_size=16, early_stopping=50),
}


def settings(**changes):
    return {"epochs": 8, "lr": 0.05, "hidden": "relu", "scale": "he", "seed": 4, "verbose": 0,
            **changes}


def host(params):
    return {key: xpnet.to_numpy(value) for key, value in params.items()}


def assert_same_params(a, b):
    a, b = host(a), host(b)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def stop_after(epoch):
    return lambda e, logs, params: e + 1 >= epoch


@pytest.mark.parametrize("run", RUNS.values(), ids=RUNS.keys())
def test_a_resumed_run_ends_bit_identical_to_an_uninterrupted_one(xp, tmp_path, run):
    X, Y = (xpnet.asarray(a, xp) for a in MOONS)
    whole, whole_history = xpnet.fit(X, Y, [2, 8, 1], **settings(**run))
    path = tmp_path / "run.ckpt.npz"
    xpnet.fit(X, Y, [2, 8, 1], checkpoint=path, callbacks=[stop_after(3)], **settings(**run))
    assert read_checkpoint(path, xp).epoch == 3
    resumed, history = xpnet.fit(X, Y, [2, 8, 1], checkpoint=path, resume=True, **settings(**run))
    assert_same_params(resumed, whole)
    assert history.as_dict() == whole_history.as_dict()


def test_checkpoints_are_written_every_k_epochs_and_after_the_last(tmp_path):
    path = tmp_path / "run.npz"
    seen = []

    def record(epoch, logs, params):
        seen.append(read_checkpoint(path, np).epoch if path.exists() else None)

    xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, checkpoint_every=3, callbacks=[record],
              **settings(epochs=7, batch_size=32))
    # A callback runs before its epoch's checkpoint is written.
    assert seen == [None, None, None, 3, 3, 3, 6]
    assert read_checkpoint(path, np).epoch == 7


def test_resuming_with_more_epochs_continues_the_run(tmp_path):
    path = tmp_path / "run.npz"
    whole, _ = xpnet.fit(*MOONS, [2, 4, 1], **settings(epochs=9, batch_size=32))
    xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, **settings(epochs=4, batch_size=32))
    resumed, history = xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, resume=True,
                                 **settings(epochs=9, batch_size=32))
    assert history.epochs == 9
    assert_same_params(resumed, whole)


def test_resuming_a_finished_early_stopped_run_trains_no_further(tmp_path):
    path = tmp_path / "run.npz"
    run = settings(epochs=60, batch_size=40, early_stopping=1, min_delta=10.0)
    first, history = xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, **run)
    assert history.stop_reason == "early_stopping"
    again, again_history = xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, resume=True, **run)
    assert_same_params(again, first)
    assert again_history.as_dict() == history.as_dict()


def test_resume_without_a_checkpoint_file_starts_a_new_run(tmp_path):
    path = tmp_path / "new.npz"
    params, history = xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, resume=True, **settings())
    fresh, _ = xpnet.fit(*MOONS, [2, 4, 1], **settings())
    assert_same_params(params, fresh)
    assert read_checkpoint(path, np).epoch == history.epochs == 8


class Explosive(xpnet.Schedule):
    """A learning rate that grows 1e8-fold an epoch: sane at first, diverging later."""

    def __call__(self, lr, epoch):
        return lr * 1e8 ** epoch


@pytest.mark.parametrize("output, words", [("identity", "mini-batch"), ("sigmoid", "too large")])
def test_a_diverging_run_keeps_its_last_finite_checkpoint(tmp_path, output, words):
    path = tmp_path / "run.npz"
    with pytest.raises(xpnet.TrainingDivergedError, match=words) as info:
        xpnet.fit(*MOONS, [2, 16, 1], checkpoint=path, output=output, schedule=Explosive(),
                  **settings(lr=0.01, epochs=30, batch_size=8))
    state = read_checkpoint(path, np)  # written before the run went wrong
    assert 1 <= state.epoch <= info.value.history.epochs
    assert all(np.all(np.isfinite(a)) for a in state.params.values())


BAD_RESUMES = {
    "other settings": (dict(lr=0.1), ValueError, "lr=0.05 there, 0.1 here"),
    "other network": (dict(layer_dims=[2, 5, 1]), ValueError, "layer_dims"),
    "other data of the same size": (dict(data=make_moons(120, noise=0.2, seed=2)), ValueError,
                                    "data="),
    "a checkpoint further than the run asks": (dict(epochs=1), ValueError, "holds 2 epochs"),
}


@pytest.mark.parametrize("change, error, words", BAD_RESUMES.values(), ids=BAD_RESUMES.keys())
def test_resume_refuses_a_checkpoint_from_another_run(tmp_path, change, error, words):
    path = tmp_path / "run.npz"
    xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, **settings(epochs=2))
    before = path.read_bytes()
    change = dict(change)
    dims = change.pop("layer_dims", [2, 4, 1])
    data = change.pop("data", MOONS)
    with pytest.raises(error, match=words):
        xpnet.fit(*data, dims, checkpoint=path, resume=True, **settings(**{"epochs": 2, **change}))
    assert path.read_bytes() == before


def test_an_existing_checkpoint_is_not_overwritten_without_resume(tmp_path):
    path = tmp_path / "run.npz"
    path.write_bytes(b"someone else's run")
    with pytest.raises(FileExistsError, match="resume=True"):
        xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, **settings())
    assert path.read_bytes() == b"someone else's run"


@pytest.mark.parametrize("how", [{}, {"resume": True}, {"restart": True}])
def test_a_saved_model_is_never_taken_for_a_checkpoint_nor_written_over(tmp_path, how):
    # (a checkpoint whose header names another kind of file is taken for one too)
    path = tmp_path / "params.npz"
    xpnet.save_params(path, xpnet.init_params([2, 4, 1]), hidden="tanh", output="sigmoid")
    saved = path.read_bytes()
    with pytest.raises(FileExistsError, match=r"holds a saved model \('params'\), not a "
                                              r"training checkpoint; give the checkpoint a path"):
        xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, **how, **settings())
    assert path.read_bytes() == saved


def test_params_given_when_resuming_are_replaced_by_the_checkpoints(tmp_path):
    path = tmp_path / "run.npz"
    whole, _ = xpnet.fit(*MOONS, [2, 4, 1], **settings(epochs=6))
    xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, **settings(epochs=3))
    mine = xpnet.init_params([2, 4, 1], seed=99)
    resumed, _ = xpnet.fit(*MOONS, [2, 4, 1], params=mine, checkpoint=path, resume=True,
                           **settings(epochs=6))
    assert resumed is mine
    assert_same_params(resumed, whole)


def test_numpy_numbers_as_settings_are_stored_as_plain_numbers(tmp_path):
    path = tmp_path / "run.npz"
    run = settings(seed=np.int64(4), early_stopping=np.int64(50), min_delta=np.float64(0.0),
                   batch_size=np.int64(32), epochs=np.int64(3))
    xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, **run)
    assert read_checkpoint(path, np).run["seed"] == 4


def test_a_checkpointed_validation_split_needs_a_seed(tmp_path):
    with pytest.raises(ValueError, match="needs a seed"):
        xpnet.fit(*MOONS, [2, 4, 1], checkpoint=tmp_path / "run.npz",
                  **settings(seed=None, validation_split=0.2))
    assert not (tmp_path / "run.npz").exists()


def test_restart_replaces_a_checkpoint_only_with_its_own_first_save(tmp_path):
    path = tmp_path / "run.npz"
    xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, **settings(epochs=2))
    before = path.read_bytes()
    with pytest.raises(ValueError, match="X has 3 rows"):  # fails before any epoch
        xpnet.fit(np.ones((3, 5)), np.ones((1, 5)), [2, 4, 1], checkpoint=path, restart=True,
                  **settings())
    assert path.read_bytes() == before
    xpnet.fit(*MOONS, [2, 5, 1], checkpoint=path, restart=True, **settings(epochs=1))
    assert read_checkpoint(path, np).run["layer_dims"] == [2, 5, 1]


def test_a_run_resumed_in_the_middle_of_an_early_stopping_wait_stops_where_it_would_have():
    import tempfile
    run = settings(epochs=40, batch_size=30, lr=0.05, early_stopping=3, min_delta=0.02)
    whole, whole_history = xpnet.fit(*MOONS, [2, 4, 1], **run)
    assert whole_history.stop_reason == "early_stopping"
    stop_at = whole_history.epochs
    with tempfile.TemporaryDirectory() as directory:
        path = f"{directory}/run.npz"
        # Interrupted two epochs before the stop: inside the wait (patience 3).
        xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, callbacks=[stop_after(stop_at - 2)], **run)
        resumed, history = xpnet.fit(*MOONS, [2, 4, 1], checkpoint=path, resume=True, **run)
    assert history.as_dict() == whole_history.as_dict()
    assert_same_params(resumed, whole)


class Stateful(xpnet.Optimizer):
    def step(self, params, grads, learning_rate):
        pass


def test_an_optimizer_that_cannot_save_its_state_is_refused_before_training(tmp_path):
    with pytest.raises(NotImplementedError, match="get_state"):
        xpnet.fit(*MOONS, [2, 4, 1], checkpoint=tmp_path / "run.npz", **settings(optimizer=Stateful()))
    assert not (tmp_path / "run.npz").exists()


BAD_ARGUMENTS = {
    "resume without a path": (dict(resume=True), ValueError, "checkpoint=PATH"),
    "restart without a path": (dict(restart=True), ValueError, "checkpoint=PATH"),
    "resume and restart": (dict(checkpoint="x.npz", resume=True, restart=True), ValueError,
                           "not both"),
    "resume not a bool": (dict(checkpoint="x.npz", resume="yes"), TypeError, "resume"),
    "every zero": (dict(checkpoint="x.npz", checkpoint_every=0), ValueError, "checkpoint_every"),
    "path not a path": (dict(checkpoint=3), TypeError, "checkpoint must be a file path"),
}


@pytest.mark.parametrize("arguments, error, words", BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_checkpoint_arguments_are_checked_before_training(tmp_path, monkeypatch, arguments, error,
                                                          words):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=words):
        xpnet.fit(*MOONS, [2, 4, 1], **settings(**arguments))
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_in_a_missing_directory_fails_before_training(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        xpnet.fit(*MOONS, [2, 4, 1], checkpoint=tmp_path / "no" / "run.npz", **settings())


def test_memory_stays_flat_over_a_long_checkpointed_run(tmp_path):
    X, Y = make_blobs(300, seed=0)
    traced = []
    tracemalloc.start()
    try:
        xpnet.fit(X, Y, [2, 32, 3], output="softmax", batch_size=50, optimizer="adam", epochs=80,
                  verbose=0, checkpoint=tmp_path / "run.npz",
                  callbacks=[lambda e, logs, p: traced.append(tracemalloc.get_traced_memory()[0])])
    finally:
        tracemalloc.stop()
    # After warm-up only the history grows, ~0.2 kB an epoch (three floats and list slack);
    # a leaked batch of activations (50 x 32 float64) would add 12.8 kB every epoch.
    assert max(traced[20:]) - traced[10] < 1_000 * (len(traced) - 10), traced[::10]


@pytest.mark.gpu
def test_device_memory_stays_flat_over_a_long_run():
    xp = load_backend("cupy")
    import cupy

    pool = cupy.get_default_memory_pool()
    X, Y = (xpnet.asarray(a, xp) for a in make_blobs(4096, seed=0))
    used = []
    xpnet.fit(X, Y, [2, 256, 3], output="softmax", batch_size=512, optimizer="adam", epochs=40,
              verbose=0, callbacks=[lambda e, logs, p: used.append(pool.used_bytes())])
    # Arrays in use between epochs: data, parameters, Adam's moments, the epoch-start copy.
    assert max(used[10:]) <= used[5], used[::5]
