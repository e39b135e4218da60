"""sample_weight in fit/partial_fit/score, and alpha divided by each batch's own sample count.

scikit-learn's meaning: each mini-batch's loss is the weighted mean of its samples' losses,
and its L2 term ``alpha/2 * sum(W**2)`` is divided by the batch's weight sum (its sample
count without weights), the short last batch's included.
"""

import numpy as np
import pytest

from xpnet.estimators import MLPClassifier, MLPRegressor

from .conftest import blobs

pytestmark = pytest.mark.filterwarnings("ignore::Warning")

SGD = dict(solver="sgd", momentum=0.0, learning_rate_init=0.1, random_state=0)


def _params(model):
    return {key: np.asarray(value) for key, value in model.params_.items()}


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_unit_weights_train_as_no_weights(Estimator):
    # The same numbers up to rounding: the weighted mean multiplies by 1/n where the plain
    # mean divides by n.
    X, y = blobs(60)
    options = dict(hidden_layer_sizes=(5,), batch_size=16, max_iter=5, alpha=1e-2,
                   random_state=0)
    plain = Estimator(**options).fit(X, y)
    weighted = Estimator(**options).fit(X, y, sample_weight=np.ones(60))
    for key, value in _params(plain).items():
        np.testing.assert_allclose(_params(weighted)[key], value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(weighted.loss_curve_, plain.loss_curve_, rtol=1e-12)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_integer_weights_train_as_repeated_samples(Estimator):
    # One full batch: a sample of weight k counts as k copies of it, in the loss and in
    # alpha's divisor (the weight sum is the repeated data's sample count).
    X, y = blobs(40)
    weights = np.arange(40) % 3  # 0, 1 and 2 copies
    options = dict(hidden_layer_sizes=(6,), batch_size=200, max_iter=8, alpha=0.5, **SGD)
    weighted = Estimator(**options).fit(X, y, sample_weight=weights)
    repeated = Estimator(**options).fit(np.repeat(X, weights, axis=0), np.repeat(y, weights))
    for key, value in _params(repeated).items():
        np.testing.assert_allclose(_params(weighted)[key], value, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)


def test_weights_change_what_is_learned():
    # Overlapping classes; the samples of class 0 weigh 1/20: the model predicts class 1
    # almost everywhere, where unweighted it splits about evenly.
    rng = np.random.RandomState(0)
    X = rng.randn(200, 2)
    y = (X[:, 0] + rng.randn(200) > 0).astype(int)
    weights = np.where(y == 0, 0.05, 1.0)
    options = dict(hidden_layer_sizes=(4,), max_iter=50, random_state=0)
    plain = MLPClassifier(**options).fit(X, y)
    weighted = MLPClassifier(**options).fit(X, y, sample_weight=weights)
    assert np.mean(plain.predict(X) == 1) < 0.75
    assert np.mean(weighted.predict(X) == 1) > 0.9


def test_partial_fit_takes_sample_weight():
    X, y = blobs(40)
    weights = np.arange(40) % 3
    options = dict(hidden_layer_sizes=(6,), batch_size=200, **SGD)
    weighted = MLPClassifier(**options).partial_fit(X, y, sample_weight=weights, classes=[0, 1, 2])
    repeated = MLPClassifier(**options).partial_fit(np.repeat(X, weights, axis=0),
                                                    np.repeat(y, weights), classes=[0, 1, 2])
    for key, value in _params(repeated).items():
        np.testing.assert_allclose(_params(weighted)[key], value, rtol=1e-10, atol=1e-12)
    regressor = MLPRegressor(**options).partial_fit(X, y.astype(float), sample_weight=weights)
    assert regressor.n_iter_ == 1


def test_sample_weight_with_early_stopping():
    # scikit-learn's test_mlp_sample_weight_with_early_stopping: unit weights change nothing.
    rng = np.random.RandomState(42)
    X = rng.randn(100, 2)
    y = X @ [3.0, -2.0] + 0.1 * rng.randn(100)
    options = dict(hidden_layer_sizes=10, solver="adam", early_stopping=True, tol=1e-2,
                   learning_rate_init=0.01, batch_size=10, random_state=42)
    m1 = MLPRegressor(**options).fit(X, y, sample_weight=np.ones_like(y))
    m2 = MLPRegressor(**options).fit(X, y, sample_weight=None)
    np.testing.assert_allclose(m1.predict(X), m2.predict(X))
    np.testing.assert_allclose(m1.validation_scores_, m2.validation_scores_, rtol=1e-12)


def test_score_is_weighted():
    X, y = blobs(60)
    model = MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X, y)
    hits = model.predict(X) == y
    weights = np.linspace(0, 1, 60)
    assert model.score(X, y, sample_weight=weights) == pytest.approx(np.average(hits, weights=weights))
    regressor = MLPRegressor(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X, y * 1.0)
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    assert regressor.score(X, y, sample_weight=weights) == pytest.approx(
        sklearn_metrics.r2_score(y, regressor.predict(X), sample_weight=weights))


@pytest.mark.parametrize("weights, message", [
    (-np.ones(10), "sample_weight must hold finite weights >= 0"),
    (np.zeros(10), "sample_weight is all zero"),
    (np.ones(9), r"sample_weight must be a number or 1-D with one number per sample \(10\)"),
    (np.full(10, np.nan), "finite"),
])
def test_bad_sample_weight_is_refused_naming_it(weights, message):
    X, y = blobs(10)
    with pytest.raises(ValueError, match=message):
        MLPClassifier(max_iter=1).fit(X, y, sample_weight=weights)


def test_a_scalar_sample_weight_weights_every_sample():
    X, y = blobs(30)
    options = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    plain = MLPRegressor(**options).fit(X, y * 1.0)
    scalar = MLPRegressor(**options).fit(X, y * 1.0, sample_weight=1.0)
    np.testing.assert_allclose(scalar.predict(X), plain.predict(X), rtol=1e-12)


def test_alpha_of_a_short_last_batch_is_divided_by_its_own_size():
    # With X = 0 the data gives W1 no gradient: each batch only shrinks W1 by its decay,
    # 1 - lr * alpha / n_b. Five samples in batches of 2, 2 and 1.
    X, y = np.zeros((5, 3)), np.arange(5.0)
    lr, alpha = 0.1, 0.5
    model = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", momentum=0.0, alpha=alpha,
                         learning_rate_init=lr, batch_size=2, shuffle=False, random_state=0)
    model.partial_fit(X, y)
    before = _params(model)["W1"]
    model.partial_fit(X, y)
    shrink = (1 - lr * alpha / 2) ** 2 * (1 - lr * alpha / 1)
    np.testing.assert_allclose(_params(model)["W1"], before * shrink, rtol=1e-12)


def test_the_loss_counts_the_penalty_of_each_batch():
    # scikit-learn's epoch loss adds, per batch, alpha/2 * sum(W**2) / n_b weighted by
    # n_b / n: n_batches / n in all. With X = 0 and alpha only, the loss's penalty is
    # alpha/2 * sum(W**2) * 3 / 5 for five samples in batches of 2, 2 and 1.
    X, y = np.zeros((5, 3)), np.zeros(5)
    model = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", momentum=0.0, alpha=1.0,
                         learning_rate_init=1e-9, batch_size=2, shuffle=False, random_state=0)
    model.partial_fit(X, y)
    params = _params(model)
    penalty = 0.5 * sum(np.sum(params[k] ** 2) for k in ("W1", "W2")) * 3 / 5
    data_loss = 0.5 * np.mean(model.predict(X) ** 2)
    assert model.loss_ == pytest.approx(data_loss + penalty, rel=1e-6)
