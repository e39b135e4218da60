"""MLPClassifier: labels of any kind, one sigmoid or a softmax output, partial_fit's classes."""

import numpy as np
import pytest

from xpnet.estimators import MLPClassifier

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
