"""MLPClassifier: labels of any kind, one sigmoid or a softmax output, partial_fit's classes."""

import numpy as np
import pytest

import xpnet
from xpnet.estimators import MLPClassifier
from xpnet.estimators.sklearn_base import DataConversionWarning

from .conftest import blobs


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


def test_classifier_refuses_one_class_and_continuous_targets():
    X, _ = blobs()
    with pytest.raises(ValueError, match="at least 2 classes"):
        MLPClassifier().fit(X, np.zeros(150))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MLPClassifier().fit(X, np.linspace(0, 1, 150))


def multilabel_data(n=200, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 5)
    Y = np.stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] < 0.5], axis=1).astype(int)
    return X, Y


def test_a_label_indicator_y_trains_one_sigmoid_unit_per_label():
    X, Y = multilabel_data()
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0).fit(X, Y)
    predicted = model.predict(X)
    assert predicted.shape == Y.shape and set(np.unique(predicted)) <= {0, 1}
    assert model.out_activation_ == "sigmoid" and model.params_["W2"].shape[0] == 3
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    subset_accuracy = np.mean(np.all(predicted == Y, axis=1))
    assert model.score(X, Y) == subset_accuracy > 0.6


def test_a_multilabel_model_saves_loads_and_refuses_single_labels_later(tmp_path):
    X, Y = multilabel_data()
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, Y)
    loaded = xpnet.load(model.save(tmp_path / "multilabel.npz"))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    with pytest.raises(ValueError, match="label indicator matrix but this model was fitted"):
        model.partial_fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="must hold only 0 and 1"):
        MLPClassifier().fit(X, Y * 2)


@pytest.mark.filterwarnings("ignore::xpnet.estimators.sklearn_base.ConvergenceWarning")
@pytest.mark.parametrize("call", ["fit", "partial_fit", "score"])
def test_a_column_y_warning_points_at_the_callers_line(call):
    X = np.random.RandomState(0).uniform(-1, 1, (40, 2))
    y = (X[:, :1] > X[:, 1:]).astype(int)  # a column: (40, 1)
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    if call == "score":
        model.fit(X, y.ravel())
    arguments = {"partial_fit": {"classes": [0, 1]}}.get(call, {})
    with pytest.warns(DataConversionWarning, match="y.ravel") as caught:
        getattr(model, call)(X, y, **arguments)
    assert [w.filename for w in caught if w.category is DataConversionWarning] == [__file__]
