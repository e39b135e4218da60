"""MLPClassifier and MLPRegressor: scikit-learn's own checks, backends, and bad input."""

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.estimators import MLPClassifier, MLPRegressor, NotFittedError

from conftest import load_backend

sklearn = pytest.importorskip("sklearn")
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402


def blobs(n=150, n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    labels = rng.randint(n_classes, size=n)
    centers = rng.randn(n_classes, 4) * 4
    return centers[labels] + rng.randn(n, 4), labels


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@parametrize_with_checks([MLPClassifier(random_state=0), MLPRegressor(random_state=0)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_classifier_with_string_labels_and_probabilities():
    X, labels = blobs()
    y = np.array(["cat", "dog", "owl"])[labels]
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01,
                          random_state=0).fit(X, y)
    assert list(model.classes_) == ["cat", "dog", "owl"]
    assert model.score(X, y) > 0.95
    proba = model.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    assert model.n_features_in_ == 4 and model.n_iter_ == len(model.loss_curve_) <= 100


def test_binary_classifier_uses_one_sigmoid_output():
    X, labels = blobs(n_classes=2)
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X, labels * 5 + 1)
    assert model.out_activation_ == "sigmoid" and model.params_["W2"].shape == (1, 8)
    assert set(np.unique(model.predict(X))) <= {1, 6}
    assert model.predict_proba(X).shape == (150, 2)


def test_estimators_work_in_pipelines_and_grid_search():
    X, y = blobs()
    search = GridSearchCV(make_pipeline(StandardScaler(), MLPClassifier(max_iter=60, learning_rate_init=0.05,
                                                                random_state=0)),
                          {"mlpclassifier__hidden_layer_sizes": [(4,), (16,)]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.9


def test_regressor_fits_multiple_outputs():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (200, 2))
    y = np.column_stack([X[:, 0] + X[:, 1], X[:, 0] - 2 * X[:, 1]])
    model = MLPRegressor(hidden_layer_sizes=(16,), max_iter=300, learning_rate_init=0.01,
                         random_state=0).fit(X, y)
    assert model.predict(X).shape == (200, 2)
    assert model.score(X, y) > 0.95


def test_the_estimator_follows_its_backend(xp):
    X, y = blobs()
    reference = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=1,
                              backend="numpy").fit(X, y)
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=1, backend=xp).fit(X, y)
    assert backend_module.namespace_of(W1=model.params_["W1"]) is xp
    predicted = model.predict(X)
    assert backend_module.namespace_of(p=predicted) is xp
    np.testing.assert_array_equal(xpnet.to_numpy(predicted), reference.predict(X))
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=1e-10)


def test_device_data_decides_the_backend_whatever_backend_says():
    strict = backend_module.resolve_backend("array_api_strict")
    X, y = blobs()
    model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, backend="numpy").fit(
        xpnet.asarray(X, strict), xpnet.asarray(y.astype(float), strict))
    assert backend_module.namespace_of(W1=model.params_["W1"]) is strict
    with pytest.raises(TypeError, match="fitted on array_api_strict but X is a torch array"):
        model.predict(xpnet.asarray(X, load_backend("torch")))


def test_partial_fit_continues_training():
    X, y = blobs()
    model = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        model.partial_fit(X, y)
    model.partial_fit(X, y, classes=[0, 1, 2])
    for _ in range(20):
        model.partial_fit(X, y)
    assert model.n_iter_ == 21 and model.loss_curve_[-1] < model.loss_curve_[0]
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 4"):
        model.partial_fit(X[:, :3], y)


def test_predict_before_fit_says_so():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        MLPClassifier().predict(np.zeros((2, 3)))
    assert issubclass(NotFittedError, sklearn.exceptions.NotFittedError)


@pytest.mark.parametrize("params, message", [
    (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes must be positive ints"),
    (dict(batch_size=0), "batch_size must be an int >= 1"),
    (dict(learning_rate_init=0.0), "learning_rate_init must be a finite number > 0"),
    (dict(learning_rate_init=-1.0), "learning_rate_init must be a finite number > 0"),
    (dict(alpha=-1.0), "alpha must be a finite number >= 0"),
    (dict(tol=float("nan")), "tol must be a finite number >= 0"),
    (dict(early_stopping=True, validation_fraction=1.5), r"validation_fraction must be a number in \(0, 1\)"),
    (dict(random_state="seven"), "random_state must be None, an int or a numpy RandomState"),
    (dict(activation="swish"), "activation must be one of logistic, sigmoid, relu"),
    (dict(solver="lbfgs"), "solver must be 'adam' or 'sgd'"),
    (dict(backend="tpu"), "unknown backend 'tpu'"),
    (dict(learning_rate="adaptive"), "learning_rate must be 'constant' or 'invscaling'"),
    (dict(max_iter=0), "max_iter must be an int >= 1"),
])
def test_bad_hyperparameters_are_reported_at_fit(params, message):
    X, y = blobs()
    model = MLPClassifier(**params)  # never raises in __init__ (scikit-learn's rule)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)


def test_classifier_refuses_one_class_and_continuous_targets():
    X, _ = blobs()
    with pytest.raises(ValueError, match="at least 2 classes"):
        MLPClassifier().fit(X, np.zeros(150))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MLPClassifier().fit(X, np.linspace(0, 1, 150))


def test_predict_refuses_nan_and_the_wrong_number_of_features():
    X, y = blobs()
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but MLPClassifier is expecting 4"):
        model.predict(np.zeros((3, 5)))
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or inf"):
        model.predict(X_bad)


def test_a_saved_classifier_loads_on_any_backend_and_predicts_the_same(tmp_path, xp):
    X, labels = blobs()
    y = np.array(["cat", "dog", "owl"])[labels]
    model = MLPClassifier(hidden_layer_sizes=(8, 4), max_iter=30, random_state=0).fit(X, y)
    path = model.save(tmp_path / "model.npz")
    loaded = xpnet.load(path, backend=xp)
    assert type(loaded) is MLPClassifier and loaded.get_params()["hidden_layer_sizes"] == (8, 4)
    assert backend_module.namespace_of(W1=loaded.params_["W1"]) is xp
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    # The model was fitted on the default backend: a GPU one where a GPU is usable.
    np.testing.assert_allclose(xpnet.to_numpy(loaded.predict_proba(X)),
                               xpnet.to_numpy(model.predict_proba(X)), rtol=1e-12)
    assert loaded.loss_curve_ == model.loss_curve_ and list(loaded.classes_) == ["cat", "dog", "owl"]


def test_a_saved_regressor_round_trips(tmp_path):
    X, _ = blobs()
    y = np.column_stack([X[:, 0], X[:, 1] * 2])
    model = MLPRegressor(hidden_layer_sizes=(6,), max_iter=10, random_state=0, dtype="float32").fit(X, y)
    loaded = xpnet.load(model.save(tmp_path / "reg.npz"))
    assert loaded.params_["W1"].dtype == np.float32
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    loaded.partial_fit(X, y)  # training can go on after loading
    assert loaded.n_iter_ == model.n_iter_ + 1


def test_load_tells_estimators_and_plain_parameters_apart(tmp_path):
    params_file = xpnet.save_params(tmp_path / "params.npz", xpnet.init_params([2, 1]))
    with pytest.raises(xpnet.ModelFileError, match="holds a 'params' model.*xpnet.load_params"):
        xpnet.load(params_file)
    X, y = blobs()
    model_file = MLPClassifier(max_iter=2).fit(X, y).save(tmp_path / "model.npz")
    with pytest.raises(xpnet.ModelFileError, match="holds a 'MLPClassifier' model.*xpnet.load"):
        xpnet.load_params(model_file)


def test_saving_an_unfitted_estimator_is_refused(tmp_path):
    with pytest.raises(NotFittedError):
        MLPRegressor().save(tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


def test_a_failed_fit_leaves_the_fitted_model_as_it_was():
    X, y = blobs()
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    before = model.predict(X)
    with pytest.raises(ValueError, match="learning_rate_init"):
        model.set_params(learning_rate_init=-1.0).fit(X[:, :3], y)
    assert model.n_features_in_ == 4
    np.testing.assert_array_equal(model.predict(X), before)


def test_partial_fit_shuffles_differently_and_follows_the_schedule():
    X, y = blobs()
    model = MLPClassifier(hidden_layer_sizes=(4,), batch_size=10, learning_rate="invscaling",
                          solver="sgd", learning_rate_init=0.1, power_t=1.0, random_state=0)
    model.partial_fit(X, y, classes=[0, 1, 2])
    model.partial_fit(X, y)
    model.partial_fit(X, y)
    assert model.n_iter_ == 3
    assert model.history_.lr == [pytest.approx(0.1 / 3)]  # the third epoch's rate, not the first's
    first = MLPClassifier(hidden_layer_sizes=(4,), batch_size=10, random_state=0, solver="sgd")
    twice = MLPClassifier(hidden_layer_sizes=(4,), batch_size=10, random_state=0, solver="sgd")
    first.partial_fit(X, y, classes=[0, 1, 2])
    twice.partial_fit(X, y, classes=[0, 1, 2])
    twice.partial_fit(X, y)
    assert twice.loss_curve_[1] != first.loss_curve_[0]


def test_float32_data_trains_in_float32():
    X, y = blobs()
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3).fit(X.astype(np.float32), y)
    assert model.params_["W1"].dtype == np.float32
    assert model.predict_proba(X).dtype == np.float32  # float64 input is cast to the model's dtype


def test_settings_from_numpy_values_save_and_history_loads(tmp_path):
    X, y = blobs()
    model = MLPClassifier(hidden_layer_sizes=(np.int64(4),), max_iter=np.int64(3), random_state=0)
    model.fit(X, y)
    loaded = xpnet.load(model.save(tmp_path / "m.npz"))
    assert loaded.get_params()["max_iter"] == 3
    assert loaded.history_.loss == model.history_.loss
