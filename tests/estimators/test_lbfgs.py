"""solver="lbfgs": SciPy's L-BFGS-B over xpnet's own loss and gradients, on NumPy.

Several tests adapt scikit-learn's sklearn/neural_network/tests/test_mlp.py (BSD-3-Clause,
(c) the scikit-learn developers): each names the test it comes from.
"""

import re
import warnings

import numpy as np
import pytest

import xpnet
from xpnet.estimators import MLPClassifier, MLPRegressor
from xpnet.estimators.lbfgs import _Objective

pytest.importorskip("scipy")
sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_digits, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.preprocessing import MinMaxScaler, scale  # noqa: E402

X_digits, y_digits = load_digits(n_class=3, return_X_y=True)
X_multi, y_multi = MinMaxScaler().fit_transform(X_digits[:200]), y_digits[:200]
X_reg, y_reg = make_regression(n_samples=200, n_features=10, bias=20.0, noise=100.0,
                               random_state=7)
y_reg = scale(y_reg)
ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_labels", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_matches_central_differences(activation, n_labels, weighted):
    # scikit-learn's test_gradient, with and without sample weights
    rng = np.random.RandomState(42)
    X = rng.rand(5, 10)
    y = 1 + np.mod(np.arange(5) + 1, n_labels)
    model = MLPClassifier(activation=activation, hidden_layer_sizes=10, solver="lbfgs",
                          alpha=1e-5, max_iter=1, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    weights = rng.rand(5) * 2 if weighted else None
    Y = model._encode_targets(y, 5, np, np.float64, False, None)
    objective = _Objective(X.T, Y, weights, model.params_, model._hidden_activation(),
                           model._output, model.alpha)
    theta = objective.pack(model.params_)
    _, grad = objective(theta)
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = 1e-5
        numeric[i] = (objective(theta + step)[0] - objective(theta - step)[0]) / 2e-5
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_lbfgs_classification(activation):
    # scikit-learn's test_lbfgs_classification
    model = MLPClassifier(solver="lbfgs", hidden_layer_sizes=50, max_iter=150, shuffle=True,
                          random_state=1, activation=activation)
    model.fit(X_multi[:150], y_multi[:150])
    predicted = model.predict(X_multi[150:])
    assert model.score(X_multi[:150], y_multi[:150]) > 0.95
    assert (predicted.shape[0], predicted.dtype.kind) == (50, y_multi.dtype.kind)
    assert 1 <= model.n_iter_ <= 150
    assert model.loss_ == pytest.approx(model.loss_curve_[-1])


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_lbfgs_regression(activation):
    # scikit-learn's test_lbfgs_regression
    model = MLPRegressor(solver="lbfgs", hidden_layer_sizes=50, max_iter=200, tol=1e-3,
                         shuffle=True, random_state=1, activation=activation)
    model.fit(X_reg, y_reg)
    assert model.score(X_reg, y_reg) > (0.80 if activation == "identity" else 0.98)


@pytest.mark.parametrize("Estimator, X, y", [(MLPClassifier, X_multi, y_multi),
                                             (MLPRegressor, X_reg, y_reg)])
def test_max_fun_limits_the_loss_evaluations(Estimator, X, y):
    # scikit-learn's test_lbfgs_classification_maxfun and test_lbfgs_regression_maxfun
    model = Estimator(solver="lbfgs", hidden_layer_sizes=50, tol=0.0, max_iter=150, max_fun=10,
                      random_state=1)
    with pytest.warns(ConvergenceWarning, match=re.escape("lbfgs failed to converge after")):
        model.fit(X, y)
    assert model.n_iter_ <= 10


@pytest.mark.parametrize("Estimator, X, y", [(MLPClassifier, X_multi, y_multi),
                                             (MLPRegressor, X_reg, y_reg)])
def test_max_iter_warns_and_warm_start_continues(Estimator, X, y):
    # scikit-learn's test_mlp_warm_start_no_convergence, solver="lbfgs"
    model = Estimator(solver="lbfgs", warm_start=True, max_iter=10, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=10"):
        model.fit(X, y)
    assert model.n_iter_ == 10
    loss = model.loss_
    model.set_params(max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert 1 <= model.n_iter_ <= 20 and model.loss_ < loss  # went on from the weights it had


def test_lbfgs_has_no_partial_fit():
    # scikit-learn's test_partial_fit_errors: lbfgs does not support partial_fit
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")
    assert hasattr(MLPClassifier(solver="sgd"), "partial_fit")
    with pytest.raises(AttributeError, match="lbfgs is not stochastic"):
        MLPRegressor(solver="lbfgs").partial_fit(X_reg, y_reg)


def test_lbfgs_with_sample_weight_counts_repeated_samples():
    weights = np.arange(200) % 3
    options = dict(solver="lbfgs", hidden_layer_sizes=5, max_iter=30, alpha=0.1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = MLPRegressor(**options).fit(X_reg, y_reg, sample_weight=weights)
        repeated = MLPRegressor(**options).fit(np.repeat(X_reg, weights, axis=0),
                                               np.repeat(y_reg, weights))
    assert weighted.loss_ == pytest.approx(repeated.loss_, rel=1e-6)
    np.testing.assert_allclose(weighted.predict(X_reg), repeated.predict(X_reg), rtol=1e-5,
                               atol=1e-6)


def test_lbfgs_loss_includes_alpha_over_the_sample_count():
    model = MLPRegressor(solver="lbfgs", hidden_layer_sizes=4, max_iter=5, alpha=3.0,
                         random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_reg, y_reg)
    squares = sum(np.sum(W ** 2) for W in model.coefs_)
    data = 0.5 * np.mean((model.predict(X_reg) - y_reg) ** 2)
    assert model.loss_ == pytest.approx(data + 0.5 * 3.0 * squares / 200, rel=1e-9)


def test_lbfgs_model_saves_and_loads(tmp_path):
    model = MLPClassifier(solver="lbfgs", hidden_layer_sizes=8, max_iter=50, random_state=0)
    model.fit(X_multi, y_multi)
    loaded = xpnet.load(model.save(tmp_path / "model.npz"))
    np.testing.assert_array_equal(loaded.predict_proba(X_multi), model.predict_proba(X_multi))


def test_lbfgs_refuses_other_backends_saying_it_runs_on_numpy():
    with pytest.raises(ValueError, match="solver='lbfgs' runs on the NumPy backend"):
        MLPClassifier(solver="lbfgs", backend="array_api_strict").fit(X_multi, y_multi)


def test_the_convergence_warning_points_at_the_callers_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MLPRegressor(solver="lbfgs", max_iter=2, random_state=0).fit(X_reg, y_reg)
    assert [w.filename for w in caught if issubclass(w.category, ConvergenceWarning)] == [__file__]
