"""What both estimators share: scikit-learn's own checks, backends, hyper-parameters, and bad input."""

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.estimators import MLPClassifier, MLPRegressor, NotFittedError

from conftest import load_backend

from .conftest import blobs

sklearn = pytest.importorskip("sklearn")
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@parametrize_with_checks([MLPClassifier(random_state=0), MLPRegressor(random_state=0)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_estimators_work_in_pipelines_and_grid_search():
    X, y = blobs()
    search = GridSearchCV(make_pipeline(StandardScaler(), MLPClassifier(max_iter=60, learning_rate_init=0.05,
                                                                random_state=0)),
                          {"mlpclassifier__hidden_layer_sizes": [(4,), (16,)]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.9


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
    (dict(solver="newton"), "solver must be 'adam', 'sgd' or 'lbfgs'"),
    (dict(solver="lbfgs", max_fun=0), "max_fun must be an int >= 1"),
    (dict(backend="tpu"), "unknown backend 'tpu'"),
    (dict(learning_rate="slow"), "learning_rate must be 'constant', 'invscaling' or 'adaptive'"),
    (dict(max_iter=0), "max_iter must be an int >= 1"),
])
def test_bad_hyperparameters_are_reported_at_fit(params, message):
    X, y = blobs()
    model = MLPClassifier(**params)  # never raises in __init__ (scikit-learn's rule)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)


def test_predict_refuses_nan_and_the_wrong_number_of_features():
    X, y = blobs()
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but MLPClassifier is expecting 4"):
        model.predict(np.zeros((3, 5)))
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or inf"):
        model.predict(X_bad)


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
    # the third epoch's rate, not the first's: scikit-learn's lr / (t_ + 1) ** power_t, t_ = 300 samples
    assert model.history_.lr == [pytest.approx(0.1 / (2 * 150 + 1))]
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


def test_numpy_bools_from_a_parameter_grid_set_the_flags():
    X, y = blobs()
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, solver="sgd", shuffle=np.False_,
                          nesterovs_momentum=np.True_, early_stopping=np.True_, random_state=0)
    model.fit(X, y)
    assert len(model.history_.val_loss) == model.n_iter_ == 3


def test_early_stopping_on_too_few_samples_says_how_many_the_split_holds_out():
    X, y = blobs()
    with pytest.raises(ValueError) as raised:
        MLPClassifier(early_stopping=True, validation_fraction=0.1).fit(X[:4], [0, 1, 0, 1])
    assert str(raised.value) == (
        "validation_fraction=0.1 of 4 samples holds out 0 for validation, which needs at least one "
        "sample on each side; use more data, another validation_fraction or early_stopping=False")


@pytest.mark.parametrize("continue_with", ["partial_fit", "warm_start"])
def test_a_failed_continuation_leaves_the_weights_and_the_optimizer_as_they_were(
        monkeypatch, continue_with):
    from xpnet.estimators import mlp

    X, y = blobs()
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                          warm_start=continue_with == "warm_start")
    model.fit(X, y)
    weights = {key: np.array(value, copy=True) for key, value in model.params_.items()}
    state = model.optimizer_.get_state()[1]

    def trains_then_fails(*args, **kwargs):
        fit(*args, **kwargs)  # the weights and the optimizer move on, in place ...
        raise RuntimeError("interrupted")  # ... and then the call fails

    fit = mlp.fit_network
    monkeypatch.setattr(mlp, "fit_network", trains_then_fails)
    with pytest.raises(RuntimeError, match="interrupted"):
        model.partial_fit(X, y) if continue_with == "partial_fit" else model.fit(X, y)
    for key, value in weights.items():
        np.testing.assert_array_equal(model.params_[key], value)
    assert model.optimizer_.get_state()[1] == state


@pytest.mark.filterwarnings("ignore::xpnet.estimators.sklearn_base.ConvergenceWarning")
@pytest.mark.parametrize("before, after", [("float64", "float32"), ("float32", "float64")])
@pytest.mark.parametrize("solver, continue_with", [
    ("adam", "warm_start"), ("sgd", "warm_start"), ("lbfgs", "warm_start"),
    ("adam", "partial_fit"), ("sgd", "partial_fit")])
def test_a_dtype_set_after_fit_is_the_one_training_continues_in(solver, continue_with, before,
                                                                 after):
    X, y = blobs()
    model = MLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=3, random_state=0,
                          backend="numpy", dtype=before, warm_start=continue_with == "warm_start")
    model.fit(X, y)
    loss, weights = model.loss_, {key: np.array(value) for key, value in model.params_.items()}
    model.set_params(dtype=after, max_iter=1)
    model.partial_fit(X, y) if continue_with == "partial_fit" else model.fit(X, y)
    assert {value.dtype for value in model.params_.values()} == {np.dtype(after)}
    assert model.predict_proba(X).dtype == np.dtype(after)
    if solver == "lbfgs":  # one more iteration from the weights reached: a lower loss
        assert model.loss_ < loss
    else:  # one step of 150 samples from the weights reached, not new ones
        assert len(model.loss_curve_) == 4
        for key, value in weights.items():
            np.testing.assert_allclose(model.params_[key], value, atol=0.05)
        arrays, _ = model.optimizer_.get_state()
        assert {a.dtype for a in arrays.values()} <= {np.dtype(after)}
