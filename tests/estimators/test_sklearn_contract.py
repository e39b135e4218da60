"""scikit-learn's MLP contract, checked on xpnet's estimators.

Most tests adapt scikit-learn's own test module, sklearn/neural_network/tests/test_mlp.py
(BSD-3-Clause, (c) the scikit-learn developers): their logic is copied and run against
``xpnet.MLPClassifier``/``MLPRegressor``; each names the test it comes from. Tests of
options xpnet does not offer are left out; the lbfgs ones are in test_lbfgs.py.
"""

import re

import numpy as np
import pytest

import xpnet
from xpnet.estimators import MLPClassifier, MLPRegressor
from xpnet.estimators.stopping import split_validation

sklearn = pytest.importorskip("sklearn")
from sklearn import neural_network  # noqa: E402
from sklearn.datasets import load_digits, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.preprocessing import MinMaxScaler, scale  # noqa: E402

X_digits, y_digits = load_digits(n_class=3, return_X_y=True)
X_digits_multi = MinMaxScaler().fit_transform(X_digits[:200])
y_digits_multi = y_digits[:200]
X_digits, y_digits = load_digits(n_class=2, return_X_y=True)
X_digits_binary = MinMaxScaler().fit_transform(X_digits[:200])
y_digits_binary = y_digits[:200]
X_reg, y_reg = make_regression(n_samples=200, n_features=10, bias=20.0, noise=100.0, random_state=7)
y_reg = scale(y_reg)

ignore_convergence = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# -- alpha, tol / n_iter_no_change, early stopping ------------------------------------------

@ignore_convergence
def test_larger_alpha_gives_smaller_weights():
    # scikit-learn's test_alpha
    X, y = X_digits_binary[:100], y_digits_binary[:100]
    sums = [[np.abs(MLPClassifier(hidden_layer_sizes=10, alpha=alpha, random_state=1)
                    .fit(X, y).params_[key]).sum() for key in ("W1", "W2")] for alpha in (0, 1)]
    assert (np.array(sums[0]) > np.array(sums[1])).all()


@ignore_convergence
def test_alpha_is_divided_by_the_batch_size_as_in_scikit_learn():
    # scikit-learn's penalty is alpha/2 * sum(W**2) per batch over the batch's samples:
    # alpha=1 still fits these digits; undivided, the penalty kept the accuracy near 90%.
    X, y = X_digits_multi, y_digits_multi
    reference = neural_network.MLPClassifier(hidden_layer_sizes=(10,), alpha=1.0, random_state=1)
    model = MLPClassifier(hidden_layer_sizes=(10,), alpha=1.0, random_state=1).fit(X, y)
    assert reference.fit(X, y).score(X, y) == 1.0
    assert model.score(X, y) > 0.99


def test_tolerance_stops_training():
    # scikit-learn's test_tolerance
    model = MLPClassifier(tol=0.5, max_iter=3000, solver="sgd").fit([[3, 2], [1, 6]], [1, 0])
    assert model.max_iter > model.n_iter_


@pytest.mark.parametrize("n_iter_no_change", [2, 5, 10, 50, 100])
def test_n_iter_no_change_counts_epochs_without_tol_improvement(n_iter_no_change):
    # scikit-learn's test_n_iter_no_change
    model = MLPClassifier(tol=0.01, max_iter=3000, solver="sgd", n_iter_no_change=n_iter_no_change)
    model.fit(X_digits_binary[:100], y_digits_binary[:100])
    assert model._no_improvement_count == n_iter_no_change + 1
    assert model.max_iter > model.n_iter_
    # The rule itself: none of the last n_iter_no_change + 1 losses beat the best before by tol.
    curve = model.loss_curve_
    for i in range(len(curve) - n_iter_no_change - 1, len(curve)):
        assert curve[i] > min(curve[:i]) - 0.01
    assert model.best_loss_ == min(curve)


def test_the_stopping_rule_stops_about_when_scikit_learn_does():
    # Before, xpnet's rule ran several times as many epochs (202 against 34 here).
    X, y = X_digits_multi, y_digits_multi
    options = dict(random_state=0, tol=0.01, solver="sgd", max_iter=3000)
    reference = neural_network.MLPClassifier(**options).fit(X, y).n_iter_
    assert MLPClassifier(**options).fit(X, y).n_iter_ <= 1.5 * reference


@ignore_convergence
def test_n_iter_no_change_inf_runs_to_max_iter():
    # scikit-learn's test_n_iter_no_change_inf (fewer epochs)
    model = MLPClassifier(tol=1e9, max_iter=300, solver="sgd", n_iter_no_change=np.inf)
    model.fit(X_digits_binary[:100], y_digits_binary[:100])
    assert model.n_iter_ == 300
    assert model._no_improvement_count == model.n_iter_ - 1


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_early_stopping_watches_the_validation_score(Estimator):
    # scikit-learn's test_early_stopping
    X, y = X_digits_binary[:100], y_digits_binary[:100]
    tol = 0.2
    model = Estimator(tol=tol, max_iter=3000, solver="sgd", early_stopping=True).fit(X, y)
    assert model.max_iter > model.n_iter_
    assert model.best_loss_ is None
    assert isinstance(model.validation_scores_, list)
    scores, best = model.validation_scores_, model.best_validation_score_
    assert max(scores) == best
    assert best + tol > scores[-2]
    assert best + tol > scores[-1]
    model = Estimator(tol=tol, max_iter=3000, solver="sgd", early_stopping=False).fit(X, y)
    assert model.validation_scores_ is None
    assert model.best_validation_score_ is None
    assert model.best_loss_ is not None


def test_early_stopping_restores_the_weights_of_the_best_validation_score():
    X, y = X_reg, y_reg
    model = MLPRegressor(hidden_layer_sizes=(20,), learning_rate_init=0.05, n_iter_no_change=5,
                         early_stopping=True, validation_fraction=0.2, random_state=3).fit(X, y)
    assert model.validation_scores_[-1] < model.best_validation_score_  # it stopped after its best
    _, val = split_validation(200, 0.2, 3, None)
    assert model.score(X[val], y[val]) == pytest.approx(model.best_validation_score_, rel=1e-12)


def test_early_stopping_split_is_stratified():
    # scikit-learn's test_early_stopping_stratified
    with pytest.raises(ValueError, match="The least populated classes in y have only 1 member"):
        MLPClassifier(early_stopping=True).fit([[1, 2], [2, 3], [3, 4], [4, 5]], [0, 0, 0, 1])
    strata = np.repeat([0, 1, 2], [60, 30, 10])
    for seed in range(5):
        train, val = split_validation(100, 0.2, seed, strata)
        assert np.bincount(strata[val]).tolist() == [12, 6, 2]
        assert sorted([*train, *val]) == list(range(100))


def test_the_validation_set_needs_two_samples():
    # scikit-learn's test_minimum_input_sample_size (its message)
    with pytest.raises(ValueError, match="The validation set is too small"):
        MLPRegressor(early_stopping=True, validation_fraction=0.1).fit(X_reg[:12], y_reg[:12])


@ignore_convergence
def test_t_counts_the_samples_seen():
    model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=7).fit(X_reg, y_reg)
    assert model.t_ == 7 * 200 and model.n_iter_ == 7
    model.partial_fit(X_reg[:50], y_reg[:50])
    assert model.t_ == 7 * 200 + 50


def test_reaching_max_iter_warns_as_scikit_learn_does():
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=3).fit(X_reg, y_reg)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=3).fit(X_digits_binary, y_digits_binary)


def test_stopping_by_tol_does_not_warn():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MLPClassifier(tol=0.5, max_iter=3000, solver="sgd").fit([[3, 2], [1, 6]], [1, 0])


def test_adaptive_learning_rate_divides_by_five_until_too_small():
    # scikit-learn's test_adaptive_learning_rate
    model = MLPClassifier(tol=0.5, max_iter=3000, solver="sgd", learning_rate="adaptive")
    model.fit([[3, 2], [1, 6]], [1, 0])
    assert model.max_iter > model.n_iter_
    assert model.history_.lr[-1] <= 1e-6
    rates = sorted(set(model.history_.lr), reverse=True)
    np.testing.assert_allclose(rates, [1e-3 / 5**k for k in range(len(rates))])


# -- partial_fit ------------------------------------------------------------------------------

def test_partial_fit_with_other_classes_raises():
    # scikit-learn's test_partial_fit_classes_error
    model = MLPClassifier(solver="sgd")
    model.partial_fit([[3, 2]], [0], classes=[0, 1])
    with pytest.raises(ValueError, match=r"`classes=\[1, 2\]` is not the same as on last call"):
        model.partial_fit([[3, 2]], [0], classes=[1, 2])
    model.partial_fit([[3, 2]], [1], classes=[1, 0])  # the same classes, in any order


def test_partial_fit_refuses_early_stopping():
    # scikit-learn raises "partial_fit does not support early_stopping=True"
    for model, extra in ((MLPClassifier(early_stopping=True), {"classes": [0, 1]}),
                         (MLPRegressor(early_stopping=True), {})):
        with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
            model.partial_fit(X_digits_binary, y_digits_binary, **extra)


def test_partial_fit_refuses_classes_outside_the_first_calls():
    # scikit-learn's test_partial_fit_errors and test_partial_fit_unseen_classes
    with pytest.raises(ValueError):
        MLPClassifier(solver="sgd").partial_fit([[3, 2], [1, 6]], [1, 0], classes=[2])
    model = MLPClassifier(random_state=0)
    model.partial_fit([[1], [2], [3]], ["a", "b", "c"], classes=["a", "b", "c", "d"])
    model.partial_fit([[4]], ["d"])
    assert model.score([[1], [2], [3], [4]], ["a", "b", "c", "d"]) > 0


# -- verbose ----------------------------------------------------------------------------------

def test_verbose_prints_scikit_learns_lines_to_stdout(capsys):
    # scikit-learn's test_verbose_sgd: any int is a verbosity, and the lines are printed
    # whether or not stdout is a terminal (here pytest captures it)
    model = MLPClassifier(solver="sgd", max_iter=2, verbose=10, hidden_layer_sizes=2)
    with pytest.warns(ConvergenceWarning):
        model.fit([[3, 2], [1, 6]], [1, 0])
    model.partial_fit([[3, 2], [1, 6]], [1, 0])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert [line.split(",")[0] for line in lines] == ["Iteration 1", "Iteration 2", "Iteration 3"]
    assert lines[0] == "Iteration 1, loss = %.8f" % model.loss_curve_[0]


def test_verbose_early_stopping_prints_validation_scores(capsys):
    model = MLPRegressor(hidden_layer_sizes=(4,), verbose=True, early_stopping=True, tol=10.0,
                         n_iter_no_change=1)
    model.fit(X_reg, y_reg)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "Validation score: %f" % model.validation_scores_[0]
    assert lines[-1] == ("Validation score did not improve more than tol=10.000000 for 1 "
                         "consecutive epochs. Stopping.")


def test_verbose_zero_prints_nothing_and_negative_is_refused(capsys):
    MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, verbose=0).fit(X_reg, y_reg)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="verbose must be an int >= 0"):
        MLPRegressor(verbose=-1).fit(X_reg, y_reg)


# -- attributes and methods -------------------------------------------------------------------

def test_coefs_and_intercepts_have_scikit_learns_layout_and_view_the_parameters():
    model = MLPClassifier(hidden_layer_sizes=(5, 3), max_iter=2).fit(X_digits_multi, y_digits_multi)
    assert [c.shape for c in model.coefs_] == [(64, 5), (5, 3), (3, 3)]
    assert [b.shape for b in model.intercepts_] == [(5,), (3,), (3,)]
    assert np.shares_memory(model.coefs_[0], model.params_["W1"])
    assert np.shares_memory(model.intercepts_[2], model.params_["b3"])
    # scikit-learn's forward pass with them gives predict_proba
    hidden = np.maximum(X_digits_multi @ model.coefs_[0] + model.intercepts_[0], 0)
    hidden = np.maximum(hidden @ model.coefs_[1] + model.intercepts_[1], 0)
    logits = hidden @ model.coefs_[2] + model.intercepts_[2]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(model.predict_proba(X_digits_multi),
                               expected / expected.sum(axis=1, keepdims=True), rtol=1e-10)
    assert not hasattr(MLPClassifier(), "coefs_")


@pytest.mark.parametrize("X, y", [(X_digits_binary[:50], y_digits_binary[:50]),
                                  (X_digits_multi[:10], y_digits_multi[:10])])
def test_predict_log_proba_is_the_log_of_predict_proba(X, y):
    # scikit-learn's test_predict_proba_binary and test_predict_proba_multiclass
    model = MLPClassifier(hidden_layer_sizes=5, activation="logistic", random_state=1)
    model.fit(X, y)
    proba, log_proba = model.predict_proba(X), model.predict_log_proba(X)
    assert proba.shape == log_proba.shape == (X.shape[0], len(np.unique(y)))
    np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-12)


def test_training_diverged_error_is_a_value_error_too():
    assert issubclass(xpnet.TrainingDivergedError, ValueError)
    assert issubclass(xpnet.TrainingDivergedError, FloatingPointError)
    with pytest.raises(ValueError) as raised:  # what a scikit-learn user catches
        MLPRegressor(solver="sgd", learning_rate_init=1e10, momentum=0.0, max_iter=50,
                     activation="identity").fit(X_reg * 1e10, y_reg)
    assert isinstance(raised.value, xpnet.TrainingDivergedError)


def test_warm_start_continues_and_refuses_other_classes():
    # scikit-learn's test_warm_start, with the sgd solver (test_lbfgs.py runs lbfgs)
    X, y = load_digits(n_class=3, return_X_y=True)
    X, y = X[:150] / 16, y[:150]
    model = MLPClassifier(hidden_layer_sizes=2, solver="sgd", warm_start=True, random_state=42,
                          tol=1e-2).fit(X, y)
    before = [c.copy() for c in model.coefs_]
    model.fit(X, y)
    assert not np.array_equal(model.coefs_[0], before[0])  # trained on, from the weights it had
    for y_other in (np.array([0] * 75 + [1] * 75), np.array([0] * 50 + [1] * 50 + [3] * 50)):
        message = ("warm_start can only be used where `y` has the same classes as in the previous "
                   f"call to fit. Previously got [0 1 2], `y` has {np.unique(y_other)}")
        with pytest.raises(ValueError, match=re.escape(message)):
            model.fit(X, y_other)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_warm_start_refuses_other_hidden_layer_sizes_naming_them(Estimator):
    X, y = X_digits_multi, y_digits_multi
    model = Estimator(hidden_layer_sizes=(3,), solver="sgd", warm_start=True, max_iter=2)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    before = [c.copy() for c in model.coefs_]
    model.set_params(hidden_layer_sizes=(5, 2))
    with pytest.raises(ValueError, match=re.escape("whose hidden layers are [3], but "
                                                   "hidden_layer_sizes asks for [5, 2]; set "
                                                   "warm_start=False")):
        model.fit(X, y)
    assert all(np.array_equal(a, b) for a, b in zip(model.coefs_, before))


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_warm_start_runs_max_iter_each_fit(Estimator):
    # scikit-learn's test_warm_start_full_iteration
    X, y = X_digits_multi, y_digits_multi
    model = Estimator(hidden_layer_sizes=2, solver="sgd", warm_start=True, max_iter=3)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    assert model.n_iter_ == 3
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    assert model.n_iter_ == 3 and len(model.loss_curve_) == 6 and model.t_ == 6 * 200
