"""The data-parallel code on every backend, without MPI: ranks played by threads of this
process through a :class:`~xpnet.distributed.Transport` of their own, and the agreement
and failure rules with stand-in transports."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xpnet
from xpnet.backend import to_numpy
from xpnet.distributed import (Transport, agree_on_flag, check_communicator,
                               failures_end_the_job, launched_by_mpiexec, on_every_rank,
                               raised_on_every_rank, world)
from xpnet.errors import RankFailedError
from xpnet.training.parallel import flatten, piece, unflatten, update_order
from xpnet.training.ranks import check_same_run

from .threads import ThreadRanks, fit_on_threads


def data(xp, m=53):
    rng = np.random.RandomState(1)
    X = rng.randn(4, m)
    Y = (X[:1] - X[2:3] > 0).astype(float)
    return xpnet.asarray(X, xp, "float64"), xpnet.asarray(Y, xp, "float64")


@given(start=st.integers(0, 50), n=st.integers(0, 40), size=st.integers(1, 9))
def test_the_pieces_of_a_batch_cover_it_once_and_differ_by_at_most_one(start, n, size):
    pieces = [piece(start, start + n, rank, size) for rank in range(size)]
    assert pieces[0][0] == start and pieces[-1][1] == start + n
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    sizes = [hi - lo for lo, hi in pieces]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def test_flatten_and_unflatten_are_inverse(xp):
    params = xpnet.init_params([3, 4, 2], backend=xp, dtype="float64")
    keys = update_order(params)
    assert keys == ["W2", "b2", "W1", "b1"]
    back = dict(unflatten(flatten([params[k] for k in keys]), params, keys))
    for key in params:
        np.testing.assert_array_equal(to_numpy(back[key]), to_numpy(params[key]))


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fit_on_thread_ranks_equals_fit_alone(xp, size, optimizer):
    X, Y = data(xp)
    options = dict(epochs=3, batch_size=8, seed=5, optimizer=optimizer,
                   lr=0.5 if optimizer == "sgd" else 0.01, validation_split=0.2, verbose=0)
    alone, history = xpnet.fit(X, Y, [4, 5, 1], **options)
    results = fit_on_threads(size, X, Y, [4, 5, 1], **options)
    assert not any(isinstance(r, BaseException) for r in results), results
    for params, ranks_history in results:
        for key in alone:
            np.testing.assert_allclose(to_numpy(params[key]), to_numpy(alone[key]), rtol=1e-12,
                                       atol=1e-14)
        np.testing.assert_allclose(ranks_history.loss, history.loss, rtol=1e-12)
        np.testing.assert_allclose(ranks_history.val_loss, history.val_loss, rtol=1e-12)
        assert ranks_history.accuracy == pytest.approx(history.accuracy, rel=1e-12)


def test_a_seed_of_none_is_drawn_once_for_every_rank(xp):
    X, Y = data(xp)
    results = fit_on_threads(2, X, Y, [4, 3, 1], epochs=2, batch_size=10, seed=None, verbose=0)
    (first, _), (second, _) = results
    for key in first:
        np.testing.assert_array_equal(to_numpy(first[key]), to_numpy(second[key]))


@pytest.mark.parametrize("parallel", ["data", "tensor"])
def test_a_checkpoint_model_that_does_not_fit_raises_on_every_rank_without_aborting(
        tmp_path, parallel):
    X, Y = data(np)
    ranks = ThreadRanks(2)
    transports = [ranks.transport(rank) for rank in range(2)]
    errors = [None, None]

    def run(rank):
        try:
            xpnet.fit(X, Y, [4, 3, 1], epochs=1, verbose=0, comm=transports[rank],
                      parallel=parallel, checkpoint=tmp_path / "c.npz",
                      checkpoint_model={"classes": ["only one"]})
        except ValueError as exc:
            errors[rank] = exc

    threads = [threading.Thread(target=run, args=(rank,)) for rank in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all("classes" in str(error) for error in errors), errors
    assert [transport.aborted for transport in transports] == [None, None]
    assert not list(tmp_path.iterdir())


def test_one_ranks_bad_option_raises_on_every_rank():
    ranks = ThreadRanks(2)
    errors = [None, None]

    def run(rank):
        try:
            X, Y = data("numpy")
            xpnet.fit(X, Y, [4, 3, 1], epochs=2, lr=-1.0 if rank == 1 else 0.5, verbose=0,
                      comm=ranks.transport(rank))
        except Exception as exc:  # noqa: BLE001
            errors[rank] = exc

    threads = [threading.Thread(target=run, args=(r,)) for r in range(2)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert isinstance(errors[1], ValueError) and "lr" in str(errors[1])
    assert isinstance(errors[0], RankFailedError)
    assert "rank 1 of 2 failed while checking fit's options" in str(errors[0])


class Scripted(Transport):
    """One rank's view of a job whose other ranks' answers are given."""

    def __init__(self, rank, answers):
        self.rank, self.size, self.comm, self.answers, self.aborted = rank, len(answers), None, answers, None

    def gather_values(self, value):
        return [value if r == self.rank else a for r, a in enumerate(self.answers)]

    def abort(self, status=1):
        self.aborted = status


def test_the_rank_that_failed_raises_its_own_error_with_a_note():
    with pytest.raises(KeyError) as caught:
        on_every_rank(Scripted(0, [None, None]), lambda: {}["x"], "reading")
    assert any("rank 0 of 2" in note for note in getattr(caught.value, "__notes__", ["rank 0 of 2"]))


def test_the_others_learn_which_rank_failed_and_why():
    with pytest.raises(RankFailedError, match=r"rank 2 of 3 failed while reading.*OSError: gone"):
        on_every_rank(Scripted(0, [None, None, "OSError: gone"]), lambda: 1, "reading")
    assert on_every_rank(Scripted(0, [None, None]), lambda: 7, "reading") == 7
    assert agree_on_flag(Scripted(0, [False, True]), False) is True
    assert agree_on_flag(Scripted(0, [False, False]), False) is False


def test_an_error_of_one_rank_in_training_ends_the_job():
    transport = Scripted(1, [None, None])
    with pytest.raises(RuntimeError), failures_end_the_job(transport):
        raise RuntimeError("only here")
    assert transport.aborted == 1


def test_a_decision_of_every_rank_propagates_without_ending_the_job():
    transport = Scripted(1, [None, None])
    with pytest.raises(ValueError), failures_end_the_job(transport):
        raise raised_on_every_rank(ValueError("all of us"))
    assert transport.aborted is None


def test_ranks_with_different_settings_are_named():
    with pytest.raises(ValueError, match="rank 1 has lr 0.1 where rank 0 has 0.5"):
        check_same_run(Scripted(0, [{"lr": 0.5}, {"lr": 0.1}]), {"lr": 0.5})
    check_same_run(Scripted(0, [{"lr": 0.5}, {"lr": 0.5}]), {"lr": 0.5})


def test_comm_must_be_a_communicator():
    X, Y = data("numpy")
    with pytest.raises(TypeError, match="comm must be an mpi4py communicator"):
        xpnet.fit(X, Y, [4, 3, 1], comm="world")
    with pytest.raises(TypeError, match="lacks"):
        check_communicator(object())


def test_a_single_process_needs_no_communicator(monkeypatch):
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert launched_by_mpiexec() == 1 and world() is None
    monkeypatch.setenv("PMI_SIZE", "4")
    assert launched_by_mpiexec() == 4


@pytest.mark.parametrize("parallel", ["data", "tensor"])
@pytest.mark.parametrize("size", [2, 3])
def test_sample_weights_on_thread_ranks_equal_fit_alone(xp, size, parallel):
    X, Y = data(xp)
    weights = np.random.RandomState(3).rand(X.shape[1])
    weights[:9] = 0.0  # a whole piece of zero weight, on some rank, in some batch
    options = dict(epochs=3, batch_size=8, seed=5, optimizer="adam", lr=0.01, verbose=0,
                   sample_weight=weights, weight_decay=1e-2, decay_per_sample=True)
    dims = [4, 5, 3, 1]
    alone, history = xpnet.fit(X, Y, dims, **options)
    results = fit_on_threads(size, X, Y, dims, parallel=parallel, **options)
    assert not any(isinstance(r, BaseException) for r in results), results
    if parallel == "tensor":
        from xpnet.training.tensor import gather_params

        results = fit_on_threads(size, X, Y, dims, parallel=parallel,
                                 then=lambda t, r: (gather_params(r[0], t), r[1]), **options)[:1]
    for params, ranks_history in results:
        for key in alone:
            np.testing.assert_allclose(to_numpy(params[key]), to_numpy(alone[key]), rtol=1e-12,
                                       atol=1e-14)
        np.testing.assert_allclose(ranks_history.loss, history.loss, rtol=1e-12)


def test_an_estimator_on_thread_ranks_holds_one_model_and_lbfgs_refuses_comm():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = np.where(X[:, 0] > 0, "yes", "no")
    settings = dict(hidden_layer_sizes=(5,), random_state=None, max_iter=4, batch_size=16,
                    backend="numpy")
    ranks = ThreadRanks(2)
    fitted = [None, None]

    def run(rank):
        fitted[rank] = xpnet.MLPClassifier(comm=ranks.transport(rank), **settings).fit(X, y)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        threads = [threading.Thread(target=run, args=(r,)) for r in range(2)]
        [t.start() for t in threads]
        [t.join(60) for t in threads]
        # random_state=None: rank 0's seed on both ranks, so both hold the same model
        for a, b in zip(fitted[0].coefs_, fitted[1].coefs_):
            np.testing.assert_array_equal(a, b)
        with pytest.raises(ValueError, match="lbfgs.*comm"):
            xpnet.MLPClassifier(solver="lbfgs", comm=ranks.transport(0)).fit(X, y)
