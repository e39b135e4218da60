"""MLPRegressor: one or several outputs, and its R^2 score."""

import numpy as np
import pytest

import xpnet
from xpnet.estimators import MLPRegressor
from xpnet.estimators.sklearn_base import DataConversionWarning


def test_regressor_fits_multiple_outputs():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (200, 2))
    y = np.column_stack([X[:, 0] + X[:, 1], X[:, 0] - 2 * X[:, 1]])
    model = MLPRegressor(hidden_layer_sizes=(16,), max_iter=300, learning_rate_init=0.01,
                         random_state=0).fit(X, y)
    assert model.predict(X).shape == (200, 2)
    assert model.score(X, y) > 0.95


@pytest.mark.filterwarnings("ignore::xpnet.estimators.sklearn_base.DataConversionWarning")
@pytest.mark.filterwarnings("ignore::xpnet.estimators.sklearn_base.ConvergenceWarning")
@pytest.mark.parametrize("shape", [(60,), (60, 1), (60, 3)], ids=str)
def test_regressor_predicts_the_shape_and_scores_as_scikit_learn_does(shape):
    r2_score = pytest.importorskip("sklearn.metrics").r2_score
    from sklearn.neural_network import MLPRegressor as SklearnRegressor

    rng = np.random.RandomState(1)
    X = rng.uniform(-1, 1, (60, 2))
    y = (X @ rng.randn(2, 3))[:, :shape[-1] if len(shape) == 2 else 1].reshape(shape)
    model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    theirs = SklearnRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    predicted = model.predict(X)
    assert predicted.shape == theirs.predict(X).shape and model.n_outputs_ == theirs.n_outputs_
    assert model.score(X, y) == pytest.approx(r2_score(y, predicted), rel=1e-12)


@pytest.mark.filterwarnings("ignore::xpnet.estimators.sklearn_base.ConvergenceWarning")
@pytest.mark.parametrize("first_call", ["fit", "partial_fit"])
def test_a_column_y_warns_and_is_one_output_predicted_as_a_vector(tmp_path, first_call):
    X = np.random.RandomState(0).uniform(-1, 1, (40, 2))
    y = X[:, :1] - X[:, 1:]
    model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with pytest.warns(DataConversionWarning, match="y.ravel") as caught:
        getattr(model, first_call)(X, y)
    assert [w.filename for w in caught if w.category is DataConversionWarning] == [__file__]
    assert model.n_outputs_ == 1 and model.predict(X).shape == (40,)
    with pytest.warns(DataConversionWarning):
        model.partial_fit(X, y)  # the fitted model goes on with a column y too
    assert model.score(X, y) == model.score(X, y.ravel())
    assert xpnet.load(model.save(tmp_path / "model.npz")).predict(X).shape == (40,)
