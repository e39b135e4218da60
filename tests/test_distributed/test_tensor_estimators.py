"""The estimators with ``parallel="tensor"``, ranks played by threads: each rank holds a
share of the network, and training, predicting, scoring, saving and continuing give what
the same estimator gives in one process."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import xpnet
from xpnet.backend import to_numpy

from .threads import on_threads

SETTINGS = dict(hidden_layer_sizes=(7, 5), random_state=0, max_iter=6, batch_size=16,
                learning_rate_init=0.01, alpha=1e-3, backend="numpy")


def data(m=80):
    rng = np.random.RandomState(2)
    X = rng.randn(m, 4)
    y = np.where(X[:, 0] > 0.3, "a", np.where(X[:, 1] > 0, "b", "c"))
    return X, y


def fitted(estimator, X, y, **fit_args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **fit_args)


def assert_close(a, b):
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("size", [2, 3])
@pytest.mark.parametrize("settings", [dict(), dict(early_stopping=True, n_iter_no_change=2),
                                      dict(solver="sgd", momentum=0.9)])
def test_a_classifier_on_shares_trains_and_predicts_as_one_process(size, settings):
    X, y = data()
    alone = fitted(xpnet.MLPClassifier(**SETTINGS, **settings), X, y)

    def work(rank, transport):
        est = fitted(xpnet.MLPClassifier(comm=transport, parallel="tensor", **SETTINGS,
                                         **settings), X, y)
        shapes = {key: tuple(a.shape) for key, a in est.params_.items()}
        return (est.predict_proba(X), est.predict(X), est.score(X, y), est.loss_curve_,
                est.validation_scores_, est.n_iter_, shapes)

    for proba, labels, score, curve, scores, n_iter, shapes in on_threads(size, work):
        assert_close(proba, alone.predict_proba(X))
        assert (labels == alone.predict(X)).all() and score == alone.score(X, y)
        np.testing.assert_allclose(curve, alone.loss_curve_, rtol=1e-12)  # the L2 term too
        assert scores == alone.validation_scores_ and n_iter == alone.n_iter_
        assert shapes["W1"][0] < 7 and shapes["W2"][1] < 7  # a share, not the whole


def test_a_regressor_on_shares_trains_and_scores_as_one_process():
    X, _ = data()
    y = X[:, 0] * X[:, 1] + X[:, 2]
    alone = fitted(xpnet.MLPRegressor(**SETTINGS), X, y)

    def work(rank, transport):
        est = fitted(xpnet.MLPRegressor(comm=transport, parallel="tensor", **SETTINGS), X, y)
        return est.predict(X), est.score(X, y)

    for predicted, score in on_threads(2, work):
        assert_close(predicted, alone.predict(X))
        assert score == pytest.approx(alone.score(X, y), rel=1e-12)


def test_the_whole_network_is_saved_and_a_loaded_one_continues_on_shares(tmp_path):
    X, y = data()
    path = tmp_path / "model.npz"
    alone = fitted(xpnet.MLPClassifier(**SETTINGS), X, y)

    def work(rank, transport):
        est = fitted(xpnet.MLPClassifier(comm=transport, parallel="tensor", **SETTINGS), X, y)
        return est.save(path)

    assert on_threads(2, work) == [path, path]
    loaded = xpnet.load(path)  # one whole network, in one process
    assert loaded.get_params()["parallel"] == "data" and loaded.comm is None
    assert_close(loaded.predict_proba(X), alone.predict_proba(X))

    # A loaded model continues on 3 ranks: each takes its share (and partial_fit its
    # optimizer state) and trains on as one process does.
    for method in ("fit", "partial_fit"):
        reference = xpnet.load(path).set_params(warm_start=True)
        getattr(reference, method)(X, y)

        def go_on(rank, transport, method=method):
            est = xpnet.load(path).set_params(warm_start=True, comm=transport,
                                              parallel="tensor")
            getattr(est, method)(X, y)
            return est.predict_proba(X), est.params_["W1"].shape

        for proba, shape in on_threads(3, go_on):
            assert_close(proba, reference.predict_proba(X))
            assert shape[0] in (2, 3)


def test_shares_need_their_ranks_and_say_so():
    X, y = data()

    def work(rank, transport):
        est = fitted(xpnet.MLPClassifier(comm=transport, parallel="tensor", **SETTINGS), X, y)
        return est

    est = on_threads(2, work)[0]
    est.set_params(comm=None)
    with pytest.raises(ValueError, match="share of a network.*comm"):
        est.predict(X)
    with pytest.raises(ValueError, match="share of a network"):
        est.save("unused.npz")
    with pytest.raises(ValueError, match="share of a network.*parallel='tensor'"):
        est.set_params(warm_start=True, max_iter=1, parallel="data").fit(X, y)
    assert est.params_["W1"].shape[0] == 4  # the failed fit left the share as it was
    with pytest.raises(ValueError, match="parallel must be 'data', 'tensor' or"):
        xpnet.MLPClassifier(parallel="pipeline").fit(X, y)
    with pytest.raises(ValueError, match="pass comm"):
        xpnet.MLPClassifier(parallel="tensor").fit(X, y)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_partial_fit_splits_the_optimizers_state_with_the_weights(solver):
    import copy

    X, y = data()
    trained = fitted(xpnet.MLPClassifier(**{**SETTINGS, "solver": solver, "momentum": 0.9}), X, y)
    reference = copy.deepcopy(trained).partial_fit(X, y)  # with the Adam moments / velocity

    def work(rank, transport):
        est = copy.deepcopy(trained).set_params(comm=transport, parallel="tensor")
        return est.partial_fit(X, y).predict_proba(X)

    for proba in on_threads(2, work):
        assert_close(proba, reference.predict_proba(X))
