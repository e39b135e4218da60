"""Estimators to and from model files: est.save and xpnet.load."""

import pathlib

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.estimators import MLPClassifier, MLPRegressor, NotFittedError
from xpnet.io import read_network

from .conftest import blobs

DATA = pathlib.Path(__file__).resolve().parent / "data"
KINDS = ("MLPClassifier", "MLPRegressor")


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


@pytest.mark.parametrize("labels", [np.array([b"cat", b"d\xf6g", b""]), np.array([False, True])],
                         ids=["bytes", "bool"])
def test_labels_of_bytes_and_booleans_come_back_as_they_were(tmp_path, labels):
    X, indices = blobs()
    y = labels[indices % len(labels)]
    with pytest.warns(Warning):  # (few iterations)
        model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    loaded = xpnet.load(model.save(tmp_path / "model.npz"))
    assert loaded.classes_.dtype == labels.dtype and loaded.classes_.tolist() == sorted(
        labels.tolist())
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


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
    params_file = xpnet.save_params(tmp_path / "params.npz", xpnet.init_params([2, 1]),
                                    hidden="sigmoid", output="sigmoid")
    assert isinstance(xpnet.load(params_file), xpnet.Model)  # xpnet.load opens every file
    X, y = blobs()
    model_file = MLPClassifier(max_iter=2).fit(X, y).save(tmp_path / "model.npz")
    with pytest.raises(xpnet.ModelFileError, match="holds a 'MLPClassifier' model.*xpnet.load"):
        xpnet.load_params(model_file)


def test_saving_an_unfitted_estimator_is_refused(tmp_path):
    with pytest.raises(NotFittedError):
        MLPRegressor().save(tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


def test_settings_from_numpy_values_save_and_history_loads(tmp_path):
    X, y = blobs()
    model = MLPClassifier(hidden_layer_sizes=(np.int64(4),), max_iter=np.int64(3), random_state=0)
    model.fit(X, y)
    loaded = xpnet.load(model.save(tmp_path / "m.npz"))
    assert loaded.get_params()["max_iter"] == 3
    assert loaded.history_.loss == model.history_.loss


# Files that xpnet wrote (format 1) before the estimators became a package, with:
#   X = np.round(np.random.RandomState(0).randn(12, 3), 3)
#   y = np.array(["cat", "dog", "owl"])[np.arange(12) % 3]
#   MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0, backend="numpy").fit(X, y)
#   MLPRegressor(hidden_layer_sizes=(3,), max_iter=4, random_state=0, backend="numpy",
#                dtype="float32").fit(X, X[:, 0])
# and what their predict gave for X then.
EARLIER_FILES = {
    "mlp-classifier-format-1.npz": ["cat", "cat", "dog", "cat", "cat", "cat", "owl", "cat", "dog",
                                    "cat", "owl", "owl"],
    "mlp-regressor-format-1.npz": [2.93378043, 3.73136616, 1.47869825, 0.79935139, 1.25486159,
                                   0.69901782, 0.79582542, 1.08682621, 3.43002486, 0.54965407,
                                   0.33724770, -0.00399748],
}


@pytest.mark.parametrize("name", list(EARLIER_FILES))
def test_a_file_written_before_loads_predicts_as_then_and_saves_the_same(tmp_path, name):
    X = np.round(np.random.RandomState(0).randn(12, 3), 3)
    loaded = xpnet.load(DATA / name)
    predicted = loaded.predict(X)
    if isinstance(loaded, MLPClassifier):
        assert predicted.tolist() == EARLIER_FILES[name] and loaded.classes_.dtype == np.dtype("<U3")
    else:
        assert type(loaded) is MLPRegressor and predicted.dtype == np.float32
        np.testing.assert_allclose(predicted, EARLIER_FILES[name], rtol=1e-5, atol=1e-6)
    params, kind, metadata = read_network(DATA / name, KINDS)
    params_again, kind_again, metadata_again = read_network(loaded.save(tmp_path / name), KINDS)
    assert (kind_again, metadata_again) == (kind, metadata)
    assert params_again.keys() == params.keys()
    for key, value in params.items():
        np.testing.assert_array_equal(params_again[key], value)
        assert params_again[key].dtype == value.dtype


@pytest.mark.filterwarnings("ignore::xpnet.estimators.sklearn_base.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_a_loaded_estimator_keeps_its_loss(tmp_path, Estimator, solver):
    if solver == "lbfgs":
        pytest.importorskip("scipy")
    X, labels = blobs()
    y = labels if Estimator is MLPClassifier else X[:, 0] - X[:, 1]
    model = Estimator(hidden_layer_sizes=(5,), solver=solver, max_iter=4, random_state=0,
                      backend="numpy").fit(X, y)
    loaded = xpnet.load(model.save(tmp_path / "model.npz"))
    assert loaded.loss_ == model.loss_ and loaded.loss_curve_ == model.loss_curve_


@pytest.mark.parametrize("name", list(EARLIER_FILES))
def test_a_file_written_before_loads_with_the_last_loss_of_its_curve(name):
    loaded = xpnet.load(DATA / name)
    assert loaded.loss_curve_ and loaded.loss_ == loaded.loss_curve_[-1]
