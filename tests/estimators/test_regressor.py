"""MLPRegressor: one or several outputs, and its R^2 score."""

import numpy as np
import pytest

from xpnet.estimators import MLPRegressor


def test_regressor_fits_multiple_outputs():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (200, 2))
    y = np.column_stack([X[:, 0] + X[:, 1], X[:, 0] - 2 * X[:, 1]])
    model = MLPRegressor(hidden_layer_sizes=(16,), max_iter=300, learning_rate_init=0.01,
                         random_state=0).fit(X, y)
    assert model.predict(X).shape == (200, 2)
    assert model.score(X, y) > 0.95


@pytest.mark.parametrize("shape", [(60,), (60, 1), (60, 3)], ids=str)
def test_regressor_predicts_the_shape_of_y_and_scores_as_scikit_learn_does(shape):
    r2_score = pytest.importorskip("sklearn.metrics").r2_score
    rng = np.random.RandomState(1)
    X = rng.uniform(-1, 1, (60, 2))
    y = (X @ rng.randn(2, 3))[:, :shape[-1] if len(shape) == 2 else 1].reshape(shape)
    model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    predicted = model.predict(X)
    assert predicted.shape == shape and model.n_outputs_ == (shape[1] if len(shape) == 2 else 1)
    assert model.score(X, y) == pytest.approx(r2_score(y, predicted), rel=1e-12)
