"""``MLPClassifier``: class labels of any sortable kind, one sigmoid or a softmax output."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..backend import asarray, is_host_data, namespace_of, to_numpy
from ..outputs import OUTPUTS, classifier_output
from . import files
from .inputs import checked_sample_weight
from .lbfgs import stochastic_only
from .mlp import Array, _MLPBase
from .sklearn_base import ClassifierMixin, DataConversionWarning


@files.loadable
class MLPClassifier(ClassifierMixin, _MLPBase):
    """A multi-layer perceptron classifier with scikit-learn's interface.

    Binary problems use one sigmoid output with binary cross-entropy, multi-class
    ones a softmax output with categorical cross-entropy. Labels may be ints or
    strings. A 2-D 0/1 label indicator ``y`` (multilabel) trains one sigmoid unit per
    label; ``predict`` then gives the indicator, ``predict_proba`` each label's
    probability, ``score`` the share of samples with every label right. The parameters
    mirror scikit-learn's ``MLPClassifier`` (``solver`` is ``"adam"``, ``"sgd"`` or
    ``"lbfgs"``, the last on the NumPy backend with ``max_fun``; ``alpha`` is the L2
    penalty ``alpha/2 * sum(W**2)`` over each batch's sample count or weight sum;
    ``learning_rate`` is ``"constant"``, ``"invscaling"`` or ``"adaptive"``), plus
    ``backend`` (``"auto"``: a GPU when usable and the network's work per step is worth
    it, :mod:`xpnet.workload`), ``dtype`` (``None``: float64 where
    the backend has it) and ``comm`` (an MPI communicator: train on its ranks together,
    as :func:`xpnet.fit` does; not saved with the model) with ``parallel`` (``"data"``, or
    ``"tensor"``: each rank holds a share of every hidden layer in ``params_``, and
    ``predict``, ``score`` and ``save`` are called on every rank together; ``save`` writes the
    whole network). ``fit``, ``partial_fit`` and ``score`` take ``sample_weight``.

    Fitted attributes: ``classes_``, ``n_features_in_``, ``params_`` (the network's
    ``W1, b1, ...``), ``loss_curve_``, ``n_iter_``, ``history_``, ``out_activation_``.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True  # a 2-D label indicator y
        return tags

    @property
    def _multilabel(self) -> bool:
        return getattr(self, "_label_indicator", False)

    def _check_warm_start(self, y: Any) -> None:
        super()._check_warm_start(y)
        if y is None:  # (refused with the other checks of y)
            return
        y = to_numpy(y) if not is_host_data(y) else np.asarray(y)
        given = np.arange(y.shape[1]) if y.ndim == 2 and y.shape[1] > 1 else np.unique(y)
        if not np.array_equal(given, self.classes_):
            raise ValueError("warm_start can only be used where `y` has the same classes as in "
                             f"the previous call to fit. Previously got {self.classes_}, `y` "
                             f"has {given}")

    @stochastic_only
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None,
                    classes: Any = None) -> MLPClassifier:
        """One epoch over ``X, y`` (``sample_weight`` as in :meth:`fit`); the first call must
        list every class in ``classes``."""
        first = not hasattr(self, "params_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        if not first and classes is not None and not np.array_equal(
                self.classes_, np.unique(np.asarray(classes))):
            raise ValueError(f"`classes={list(classes)!r}` is not the same as on last call to "
                             f"partial_fit, was: {self.classes_.tolist()!r}")
        return self._train(X, y, reset=first, incremental=True, classes=classes,
                           sample_weight=sample_weight)

    def _encode_targets(self, y, n_samples, xp, dtype, reset, classes):
        y = self._labels(y, n_samples, warn_from=6)  # fit/partial_fit -> _fit -> ... -> here
        if reset:
            self._label_indicator = y.ndim == 2
        elif self._multilabel != (y.ndim == 2):
            raise ValueError("y is a label indicator matrix but this model was fitted on class "
                             "labels, or the other way round; fit a new model for other targets")
        if y.ndim == 2:  # one sigmoid unit per label
            if reset:
                self.classes_, self._output = np.arange(y.shape[1]), "sigmoid"
            elif y.shape[1] != len(self.classes_):
                raise ValueError(f"y has {y.shape[1]} labels but this model was fitted on "
                                 f"{len(self.classes_)}")
            return asarray(y.T.astype(np.float64), xp, dtype)
        if reset:
            found = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(found) < 2:
                raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes in y; "
                                 f"got 1 class: {found.tolist()[0]!r}")
            self.classes_ = found
            self._output = classifier_output(len(found))
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"y contains labels not seen in classes_ {self.classes_.tolist()}: "
                             f"{unknown.tolist()}")
        indices = asarray(np.searchsorted(self.classes_, y), xp)
        return OUTPUTS[self._output].targets(indices, len(self.classes_), dtype)

    def _strata(self, Y):
        # As scikit-learn: a multilabel split is not stratified.
        return None if self._multilabel else to_numpy(OUTPUTS[self._output].class_indices(Y))

    def _validation_score(self, AL, Y, weights):
        if self._multilabel:  # scikit-learn's subset accuracy: every label of a sample right
            hits = np.all(to_numpy(AL > 0.5) == to_numpy(Y > 0.5), axis=0)
        else:
            class_indices = OUTPUTS[self._output].class_indices
            hits = to_numpy(class_indices(AL)) == to_numpy(class_indices(Y))
        return float(np.average(hits, weights=weights))

    def _labels(self, y: Any, n_samples: int, warn_from: int) -> np.ndarray:
        # warn_from: the stack level of the user's call, where a warning should point.
        y = to_numpy(y) if not is_host_data(y) else np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected; "
                          "use y.ravel()", DataConversionWarning, stacklevel=warn_from)
            y = y.ravel()
        if np.iscomplexobj(y):
            raise ValueError(f"Complex data not supported: y has dtype {y.dtype}; class labels must "
                             "be ints, bools or strings")
        if y.dtype == object:
            try:
                np.unique(y)
            except TypeError as exc:
                raise ValueError(f"y mixes labels that cannot be sorted together ({exc}); use "
                                 "labels of one type: all strings or all numbers") from exc
        if y.ndim == 2 and y.shape[1] > 1 and y.dtype.kind in "biuf":
            if not np.isin(y, (0, 1)).all():
                raise ValueError("a 2-D y is a label indicator matrix (multilabel) and must hold "
                                 "only 0 and 1; for one label per sample pass a 1-D y")
        elif y.ndim != 1:
            raise ValueError(f"y must be 1-D (one label per sample) or a 2-D 0/1 label "
                             f"indicator matrix, got shape {y.shape}")
        if y.shape[0] != n_samples:
            raise ValueError(f"X has {n_samples} samples but y has {y.shape[0]}")
        if y.dtype.kind == "f":
            if not np.all(np.isfinite(y)):
                raise ValueError("Input y contains NaN or infinity; drop those samples or give "
                                 "them a label")
            if np.any(y != np.round(y)):
                raise ValueError("Unknown label type: continuous targets; a classifier needs class "
                                 "labels (use MLPRegressor for continuous targets)")
        return y

    def _fitted_state(self):
        classes = self.classes_.tolist()
        if self.classes_.dtype.kind == "S":  # bytes labels: JSON keeps text, byte for byte
            classes = [label.decode("latin-1") for label in classes]
        state = {**super()._fitted_state(), "classes_": classes,
                 "classes_dtype": self.classes_.dtype.str}
        return {**state, "multilabel": True} if self._multilabel else state  # older files: none

    def _restore(self, fitted, params):
        super()._restore(fitted, params)
        dtype = np.dtype(fitted["classes_dtype"])
        classes = fitted["classes_"]
        if dtype.kind == "S" and all(isinstance(label, str) for label in classes):
            classes = [label.encode("latin-1") for label in classes]
        self.classes_ = np.asarray(classes, dtype=dtype)
        self._label_indicator = fitted.get("multilabel", False) is True

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities, ``(n_samples, n_classes)``, on the model's backend."""
        AL = self._network_output(X)  # first: it says when the model is not fitted
        if self._multilabel:  # each label's own probability
            return namespace_of(AL=AL).asarray(AL.T, copy=True)
        return OUTPUTS[self._output].probabilities(AL)

    def predict_log_proba(self, X: Any) -> Array:
        """The logarithm of :meth:`predict_proba`, on the model's backend."""
        proba = self.predict_proba(X)
        return namespace_of(proba=proba).log(proba)

    def predict(self, X: Any) -> Array:
        """Predicted labels, on the model's backend (NumPy for string labels)."""
        AL = self._network_output(X)  # first: it says when the model is not fitted
        if self._multilabel:  # the label indicator matrix, (n_samples, n_labels)
            return OUTPUTS[self._output].predict(AL, 0.5).T
        indices = OUTPUTS[self._output].class_indices(AL)
        xp = namespace_of(indices=indices)
        if self.classes_.dtype.kind in "biuf":
            return xp.take(asarray(self.classes_, xp), indices, axis=0)
        return self.classes_[to_numpy(indices)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y`` (weighted by ``sample_weight``)."""
        predicted = to_numpy(self.predict(X))
        truth = self._labels(y, predicted.shape[0], warn_from=3)
        weights = checked_sample_weight(sample_weight, predicted.shape[0])
        if self._multilabel:  # subset accuracy, as scikit-learn's
            hits = np.all(predicted == truth.reshape(predicted.shape), axis=1)
        else:
            hits = predicted == truth
        return float(np.average(hits, weights=weights))
