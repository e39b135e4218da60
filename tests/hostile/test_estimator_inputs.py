"""Hostile inputs to MLPClassifier and MLPRegressor: scikit-learn's own bad-input
checks, bad hyper-parameters, and the data a user of a numerical library tries.

Each row is one hostile input and what the estimator must do with it: refuse it
with an error that names the argument and the fix, or process it correctly.
"""

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.errors import BackendUnavailableError, TrainingDivergedError
from xpnet.estimators import MLPClassifier, MLPRegressor, NotFittedError

from .layouts import LAYOUTS as SHARED_LAYOUTS

sklearn = pytest.importorskip("sklearn")
from sklearn.exceptions import DataConversionWarning  # noqa: E402
from sklearn.utils import estimator_checks  # noqa: E402


def small(cls, **params):
    return cls(**{"hidden_layer_sizes": (8,), "max_iter": 20, "random_state": 0, **params})


def blobs(n=60, n_features=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n_features)
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


# -- scikit-learn's own bad-input checks ----------------------------------------------------------

SHARED_CHECKS = [
    "check_estimators_nan_inf", "check_estimators_empty_data_messages", "check_fit2d_1sample",
    "check_fit2d_1feature", "check_fit1d", "check_estimators_unfitted", "check_dtype_object",
    "check_complex_data", "check_fit2d_predict1d", "check_n_features_in_after_fitting",
    "check_supervised_y_2d", "check_requires_y_none", "check_estimators_dtypes",
    "check_supervised_y_no_nan", "check_f_contiguous_array_estimator", "check_readonly_memmap_input",
    "check_estimator_sparse_array", "check_estimator_sparse_matrix", "check_fit_check_is_fitted",
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_methods_subset_invariance",
    "check_methods_sample_order_invariance",
]
CLASSIFIER_CHECKS = ["check_classifiers_one_label", "check_classifiers_one_label_sample_weights",
                     "check_classifiers_regression_target"]


@pytest.mark.parametrize("cls, check_name",
                         [(cls, name) for name in SHARED_CHECKS for cls in (MLPClassifier, MLPRegressor)]
                         + [(MLPClassifier, name) for name in CLASSIFIER_CHECKS],
                         ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_scikit_learn_bad_input_check_passes(hostile, cls, check_name):
    check = getattr(estimator_checks, check_name, None)
    if check is None:
        pytest.skip(f"scikit-learn {sklearn.__version__} has no {check_name}")
    check(cls.__name__, small(cls))  # the check asserts the error (or the result) itself
    hostile.handled()


# -- bad hyper-parameters, reported at fit --------------------------------------------------------

@pytest.mark.parametrize("params, exception, words", [
    (dict(hidden_layer_sizes=(0,)), ValueError, ("hidden_layer_sizes", "positive ints")),
    (dict(hidden_layer_sizes=(-1,)), ValueError, ("hidden_layer_sizes", "positive ints")),
    (dict(hidden_layer_sizes=(2.5,)), ValueError, ("hidden_layer_sizes", "positive ints")),
    (dict(hidden_layer_sizes=None), ValueError, ("hidden_layer_sizes", "positive ints")),
    (dict(hidden_layer_sizes="10"), ValueError, ("hidden_layer_sizes", "positive ints")),
    (dict(batch_size=0), ValueError, ("batch_size", ">= 1")),
    (dict(batch_size=-5), ValueError, ("batch_size", ">= 1")),
    (dict(batch_size=2.5), TypeError, ("batch_size", "int")),
    (dict(batch_size=None), TypeError, ("batch_size", "int")),
    (dict(learning_rate_init=0.0), ValueError, ("learning_rate_init", "> 0")),
    (dict(learning_rate_init=-0.1), ValueError, ("learning_rate_init", "> 0")),
    (dict(learning_rate_init=float("nan")), ValueError, ("learning_rate_init", "finite")),
    (dict(learning_rate_init=float("inf")), ValueError, ("learning_rate_init", "finite")),
    (dict(learning_rate_init="0.1"), TypeError, ("learning_rate_init", "number")),
    (dict(max_iter=0), ValueError, ("max_iter", ">= 1")),
    (dict(max_iter=2.0), TypeError, ("max_iter", "int")),
    (dict(alpha=-1.0), ValueError, ("alpha", ">= 0")),
    (dict(tol=float("nan")), ValueError, ("tol", "finite")),
    (dict(solver="sgd", momentum=-0.5), ValueError, ("momentum", "[0, 1]")),
    (dict(solver="sgd", momentum=1.5), ValueError, ("momentum", "[0, 1]")),
    (dict(solver="sgd", momentum=float("nan")), ValueError, ("momentum", "[0, 1]")),
    (dict(solver="sgd", nesterovs_momentum="yes"), TypeError, ("nesterovs_momentum", "True or False")),
    (dict(beta_1=1.0), ValueError, ("beta_1", "[0, 1)")),
    (dict(beta_2=-0.1), ValueError, ("beta_2", "[0, 1)")),
    (dict(epsilon=0.0), ValueError, ("epsilon", "> 0")),
    (dict(n_iter_no_change=0), ValueError, ("n_iter_no_change", ">= 1")),
    (dict(early_stopping=True, validation_fraction=0.0), ValueError, ("validation_fraction", "(0, 1)")),
    (dict(early_stopping=True, validation_fraction=1.5), ValueError, ("validation_fraction", "(0, 1)")),
    (dict(early_stopping="yes"), TypeError, ("early_stopping", "True or False")),
    (dict(shuffle="no"), TypeError, ("shuffle", "True or False")),
    (dict(activation="swish"), ValueError, ("activation", "logistic")),
    (dict(activation="softmax"), ValueError, ("activation", "relu")),
    (dict(activation=None), ValueError, ("activation", "tanh")),
    (dict(solver="newton"), ValueError, ("solver", "adam", "lbfgs")),
    (dict(learning_rate="slow"), ValueError, ("learning_rate", "invscaling", "adaptive")),
    (dict(learning_rate="invscaling", power_t=-1.0), ValueError, ("power_t", ">= 0")),
    (dict(backend="tpu"), ValueError, ("backend", "tpu", "numpy")),
    (dict(backend=None), TypeError, ("backend", "numpy")),
    (dict(dtype="int32"), TypeError, ("dtype", "float64")),
    (dict(dtype="float16"), ValueError, ("dtype", "float64")),
    (dict(random_state="seven"), ValueError, ("random_state", "RandomState")),
    (dict(random_state=np.random.default_rng(0)), ValueError, ("random_state", "RandomState")),
    (dict(verbose=-1), ValueError, ("verbose", "0")),
], ids=lambda v: repr(v) if isinstance(v, dict) else None)
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor], ids=lambda c: c.__name__)
def test_bad_hyperparameters_are_refused_at_fit_naming_the_parameter(hostile, cls, params, exception, words):
    X, y = blobs()
    model = small(cls, **params)  # __init__ never refuses anything (scikit-learn's rule)
    with hostile.raises(exception, *words):
        model.fit(X, y)
    assert not hasattr(model, "params_")


# -- data that is refused -------------------------------------------------------------------------

def _fitted(cls, **params):
    X, y = blobs()
    return small(cls, **params).fit(X, y)


def _with(value, n=60, n_features=3):
    X, _ = blobs(n, n_features)
    X = X.astype(object) if isinstance(value, (str, dict)) else X.copy()
    X[3, 1] = value
    return X


X_, y_ = blobs()
C, R = MLPClassifier, MLPRegressor


@pytest.mark.parametrize("call, exception, words", [
    (lambda: small(C).predict(X_), NotFittedError, ("not fitted", "call fit")),
    (lambda: small(C).predict_proba(X_), NotFittedError, ("not fitted", "call fit")),
    (lambda: small(R).score(X_, y_), NotFittedError, ("not fitted", "call fit")),
    (lambda: _fitted(C).predict(X_[:, :2]), ValueError, ("X has 2 features", "expecting 3")),
    (lambda: _fitted(R).predict(np.ones((4, 5))), ValueError, ("X has 5 features", "expecting 3")),
    (lambda: small(C).partial_fit(X_, y_, classes=[0, 1]).partial_fit(X_[:, :2], y_), ValueError,
     ("X has 2 features", "expecting 3")),
    (lambda: _fitted(C).predict(X_[0]), ValueError, ("2D", "reshape")),
    (lambda: _fitted(C).predict(X_[:0]), ValueError, ("0 sample", "minimum of 1")),
    (lambda: small(C).fit(X_, np.zeros(60)), ValueError, ("at least 2 classes", "1 class")),
    (lambda: small(C).fit(X_, np.linspace(0, 1, 60)), ValueError, ("continuous", "MLPRegressor")),
    (lambda: small(C).fit(X_, np.array(["a", 1] * 30, dtype=object)), ValueError, ("y", "one type")),
    (lambda: small(C).fit(X_, np.array([None, "a"] * 30, dtype=object)), ValueError, ("y", "one type")),
    (lambda: small(C).fit(X_, np.where(np.arange(60) == 4, np.nan, y_)), ValueError, ("y", "NaN")),
    (lambda: small(R).fit(X_, np.where(np.arange(60) == 4, np.inf, 1.0)), ValueError, ("y", "NaN or inf")),
    (lambda: small(C).fit(X_, y_[:-1]), ValueError, ("y has 59", "60 samples")),
    (lambda: small(R).fit(X_, np.ones(59)), ValueError, ("y", "one row per sample")),
    # A 2-D 0/1 y is a multilabel indicator; other 2-D y are refused.
    (lambda: small(C).fit(X_, np.c_[y_, y_] + 2), ValueError, ("y", "1-D")),
    (lambda: small(C).fit(X_, None), ValueError, ("y", "requires y")),
    (lambda: small(R).fit(X_, y_ + 1j), ValueError, ("Complex data not supported", "y")),
    (lambda: small(C).fit(X_, y_ + 0j), ValueError, ("Complex data not supported", "y")),
    (lambda: small(R).fit(X_, np.array(["a"] * 60)), ValueError, ("y", "numbers")),
    (lambda: small(C).fit(_with(np.nan), y_), ValueError, ("X", "NaN", "impute")),
    (lambda: small(C).fit(_with(np.inf), y_), ValueError, ("X", "inf", "impute")),
    (lambda: _fitted(R).predict(_with(-np.inf)), ValueError, ("X", "inf", "impute")),
    (lambda: small(C).fit(X_ + 1j, y_), ValueError, ("Complex data not supported", "X")),
    (lambda: small(C).fit(_with("a"), y_), ValueError, ("X", "numbers")),
    (lambda: small(C).fit(_with({"foo": "bar"}), y_), TypeError, ("X", "numbers")),
    (lambda: small(C).fit([[1.0, 2.0], [3.0]], [0, 1]), ValueError, ("X", "rectangular")),
    (lambda: small(C).fit(X_[:, 0], y_), ValueError, ("2D", "reshape")),
    (lambda: small(C).fit(X_[:, :, None], y_), ValueError, ("3D", "(n_samples, n_features)")),
    (lambda: small(C).fit(None, y_), ValueError, ("0D", "(n_samples, n_features)")),
    (lambda: small(C).fit(X_[:0], y_[:0]), ValueError, ("0 sample", "minimum of 1")),
    (lambda: small(R).fit(X_[:, :0], y_), ValueError, ("0 feature", "minimum of 1")),
    (lambda: small(C).partial_fit(X_, y_), ValueError, ("classes", "first call")),
    (lambda: small(C).partial_fit(X_, y_, classes=[0, 1]).partial_fit(X_, y_ + 1), ValueError,
     ("y", "classes_")),
    (lambda: small(C, early_stopping=True).fit(X_[:4], [0, 1, 0, 1]), ValueError,
     ("validation_fraction", "early_stopping=False")),
    (lambda: _fitted(R).score(X_, np.ones(59)), ValueError, ("y", "one row per sample")),
    (lambda: _fitted(R).score(X_, np.full(60, np.nan)), ValueError, ("y", "NaN")),
    (lambda: _fitted(C, dtype="float32").predict(np.full((2, 3), 1e300)), ValueError,
     ("X", "float32", "dtype='float64'")),
    (lambda: small(C).set_params(hidden_layers=(3,)), ValueError, ("hidden_layers", "valid parameters")),
    (lambda: small(C).fit(X_, y_, sample_weight=np.ones(59)), ValueError,
     ("sample_weight", "one number per sample (60)")),
    (lambda: small(C).fit(X_, y_, sample_weight=np.ones((60, 2))), ValueError,
     ("sample_weight", "1-D")),
    (lambda: small(R).fit(X_, y_, sample_weight=["a"] * 60), ValueError,
     ("sample_weight", "number")),
    (lambda: small(R).fit(X_, y_, sample_weight=np.full(60, np.inf)), ValueError,
     ("sample_weight", "finite")),
    (lambda: small(C).partial_fit(X_, y_, sample_weight=-np.ones(60), classes=[0, 1]),
     ValueError, ("sample_weight", ">= 0")),
    (lambda: _fitted(C).score(X_, y_, sample_weight=np.zeros(60)), ValueError,
     ("sample_weight", "all zero")),
    (lambda: small(C, solver="lbfgs", backend="array_api_strict").fit(X_, y_), ValueError,
     ("lbfgs", "NumPy", "backend='numpy'")),
], ids=["predict before fit", "predict_proba before fit", "score before fit",
        "predict feature count", "regressor predict feature count", "partial_fit feature count",
        "predict 1-D X", "predict 0 samples", "one class", "continuous targets to the classifier",
        "labels of mixed types", "None among labels", "NaN label", "inf target", "y too short",
        "regressor y too short", "multi-label y", "y None", "complex targets", "complex labels",
        "string targets to the regressor", "NaN in X", "inf in X", "-inf in X at predict",
        "complex X", "a string in X", "a dict in X", "ragged X", "1-D X", "3-D X", "X None",
        "0 samples", "0 features", "partial_fit without classes", "partial_fit unseen label",
        "too few samples for early stopping", "score y too short", "score NaN y",
        "values beyond float32", "unknown parameter", "sample_weight too short",
        "2-D sample_weight", "string sample_weight", "inf sample_weight",
        "negative sample_weight", "all-zero score weights", "lbfgs off NumPy"])
def test_bad_data_is_refused_naming_the_argument(hostile, call, exception, words):
    with hostile.raises(exception, *words):
        call()


def test_a_diverging_fit_says_so_and_how_to_fix_it(hostile):
    X, _ = blobs()
    with hostile.raises(TrainingDivergedError, "diverged", "learning rate", "scale"):
        small(MLPRegressor).fit(X, X[:, 0] * 1e200)


@pytest.mark.parametrize("other", ["torch", "jax"])
def test_predict_with_another_librarys_array_names_both(hostile, other):
    try:
        xp = backend_module.resolve_backend(other)
    except BackendUnavailableError as exc:
        pytest.skip(f"{other} backend unavailable: {exc}")
    model = _fitted(MLPClassifier, backend="numpy")
    with hostile.raises(TypeError, "numpy", other, "asarray"):
        model.predict(xpnet.asarray(X_, xp))


@pytest.mark.parametrize("backend", ["array_api_strict", "torch", "jax"])
def test_complex_device_arrays_are_refused(hostile, backend):
    try:
        xp = backend_module.resolve_backend(backend)
    except BackendUnavailableError as exc:
        pytest.skip(f"{backend} backend unavailable: {exc}")
    with hostile.raises(ValueError, "Complex data not supported", "X"):
        small(MLPClassifier).fit(xp.asarray(X_ + 1j), y_)


# -- data that is legitimate and must work --------------------------------------------------------

@pytest.mark.parametrize("labels", [
    np.array(["no", "yes"]), np.array(["no", "yes"], dtype=object), np.array([False, True]),
    np.array([-5, 7]), np.array([0.0, 3.0]), np.array(["cat", "dog", "owl"]),
], ids=["strings", "object strings", "bools", "negative ints", "integral floats", "three strings"])
def test_labels_of_any_sortable_kind_work(hostile, labels):
    X, codes = blobs()
    if len(labels) == 3:
        codes = codes + (X[:, 2] > 0.5)
    y = labels[codes]
    model = small(MLPClassifier, learning_rate_init=0.05, max_iter=100).fit(X, y)
    predicted = np.asarray(model.predict(X))
    assert list(model.classes_) == sorted(set(labels.tolist()))
    assert set(predicted.tolist()) <= set(labels.tolist())
    assert model.score(X, y) > 0.8
    hostile.handled()


LAYOUTS = {**SHARED_LAYOUTS, "strided view": lambda A: np.repeat(A, 2, axis=0)[::2]}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor], ids=lambda c: c.__name__)
def test_read_only_and_fortran_data_work_and_stay_unchanged(hostile, cls, layout):
    X, y = blobs()
    X_in, y_in = LAYOUTS[layout](X), LAYOUTS[layout](y)
    model = small(cls).fit(X_in, y_in)
    reference = small(cls).fit(X.copy(), y.copy())
    np.testing.assert_array_equal(model.predict(X_in), reference.predict(X))
    assert model.loss_curve_ == reference.loss_curve_
    np.testing.assert_array_equal(X_in, X)
    np.testing.assert_array_equal(y_in, y)
    hostile.handled()


@pytest.mark.parametrize("convert", [
    lambda X: X.astype(np.int64), lambda X: X > 0, lambda X: (X > 0).astype(np.uint8),
    lambda X: X.astype(object), lambda X: X.astype(np.float16), lambda X: X.tolist(),
], ids=["int64", "bool", "uint8", "object numbers", "float16", "lists"])
def test_numeric_data_of_other_dtypes_trains_in_float64(hostile, convert):
    X, y = blobs()
    model = small(MLPClassifier).fit(convert(X), y)
    assert model.params_["W1"].dtype == np.float64
    assert np.all(np.isfinite(model.loss_curve_))
    assert model.predict(convert(X)).shape == (60,)
    hostile.handled()


@pytest.mark.parametrize("call, check", [
    (lambda X, y: small(MLPClassifier, batch_size=10**9).fit(X, y), lambda m: m.n_iter_ >= 1),
    (lambda X, y: small(MLPClassifier, batch_size=1, max_iter=2).fit(X, y), lambda m: m.n_iter_ == 2),
    (lambda X, y: small(MLPClassifier, hidden_layer_sizes=()).fit(X, y), lambda m: m.n_layers_ == 2),
    (lambda X, y: small(MLPClassifier, hidden_layer_sizes=5).fit(X, y), lambda m: m.params_["W1"].shape == (5, 3)),
    (lambda X, y: small(MLPClassifier).fit(X[:2], [0, 1]), lambda m: m.predict(X_[:2]).shape == (2,)),
    (lambda X, y: small(MLPRegressor).fit(X[:1], [3.0]), lambda m: m.predict(X_[:2]).shape == (2,)),
    (lambda X, y: small(MLPClassifier).fit(np.ones_like(X), y), lambda m: np.all(np.isfinite(m.loss_curve_))),
    (lambda X, y: small(MLPClassifier).fit(X.astype(np.float32), y), lambda m: m.params_["W1"].dtype == np.float32),
    (lambda X, y: small(MLPClassifier).partial_fit(X, y, classes=[1, 0, 1]), lambda m: list(m.classes_) == [0, 1]),
], ids=["batch larger than the data", "batch of one", "no hidden layer", "an int for hidden_layer_sizes",
        "two samples", "one sample regression", "constant features", "float32 data", "duplicate classes"])
def test_edge_cases_that_are_legitimate_work(hostile, call, check):
    X, y = blobs()
    assert check(call(X, y))
    hostile.handled()


def test_a_column_vector_y_warns_and_trains(hostile):
    X, y = blobs()
    with pytest.warns(DataConversionWarning, match="y.ravel"):
        model = small(MLPClassifier).fit(X, y[:, None])
    np.testing.assert_array_equal(model.classes_, [0, 1])
    hostile.handled()


def test_float64_data_into_a_float32_model_is_cast(hostile):
    X, y = blobs()
    model = small(MLPRegressor, dtype="float32").fit(X, X[:, 0])
    predicted = model.predict(X)
    assert predicted.dtype == np.float32 and np.all(np.isfinite(predicted))
    hostile.handled()
