"""``MLPRegressor``: real targets of one or several outputs, an identity output."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..backend import asarray, is_host_data, namespace_of, to_numpy
from . import files
from .inputs import checked_sample_weight
from .lbfgs import stochastic_only
from .mlp import Array, _MLPBase
from ..validation import check_finite_cast
from .reals import device_reals, host_reals
from .sklearn_base import DataConversionWarning, RegressorMixin


@files.loadable
class MLPRegressor(RegressorMixin, _MLPBase):
    """A multi-layer perceptron regressor with scikit-learn's interface.

    Identity output, squared-error loss; ``y`` may be 1-D or ``(n_samples, n_outputs)``
    (one column is one output, with scikit-learn's ``DataConversionWarning``).
    Parameters and fitted attributes as in :class:`MLPClassifier` (without ``classes_``).
    """

    _output = "identity"

    @stochastic_only
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over ``X, y`` (the first call starts a new model; ``sample_weight`` as
        in :meth:`fit`)."""
        return self._train(X, y, reset=not hasattr(self, "params_"), incremental=True,
                           sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _encode_targets(self, y, n_samples, xp, dtype, reset, classes):
        y = host_reals(y, "y") if is_host_data(y) else device_reals(y, "y")
        if y.ndim not in (1, 2) or y.shape[0] != n_samples:
            raise ValueError(f"y must have one row per sample ({n_samples}), got shape {tuple(y.shape)}")
        if y.ndim == 2 and y.shape[1] == 1:  # as scikit-learn: one output, predicted as a vector
            warnings.warn("A column-vector y was passed when a 1d array was expected; "
                          "use y.ravel()", DataConversionWarning, stacklevel=5)
            y = namespace_of(y=y).reshape(y, (n_samples,))
        if reset:
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        with np.errstate(over="ignore"):  # values beyond the dtype's range: reported just below
            Y = asarray(y, xp, dtype)
        check_finite_cast(Y, y, "y")
        return xp.reshape(Y, (1, n_samples)) if Y.ndim == 1 else xp.asarray(Y.T, copy=True)

    def _validation_score(self, AL, Y, weights):
        return _r2(to_numpy(Y).T, to_numpy(AL).T, weights)

    def _fitted_state(self):
        # y_is_1d: what earlier versions predicted a vector for (any one output now)
        return {**super()._fitted_state(), "n_outputs_": self.n_outputs_,
                "y_is_1d": self.n_outputs_ == 1}

    def _restore(self, fitted, params):
        super()._restore(fitted, params)
        self.n_outputs_ = fitted["n_outputs_"]

    def predict(self, X: Any) -> Array:
        """Predicted values on the model's backend: ``(n_samples,)`` for one output (whatever
        the shape of ``y``, as scikit-learn's), else ``(n_samples, n_outputs)``."""
        AL = self._network_output(X)
        xp = namespace_of(AL=AL)
        return AL[0, :] if self.n_outputs_ == 1 else xp.asarray(AL.T, copy=True)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """The coefficient of determination R^2 (averaged over outputs; weighted by
        ``sample_weight``, as scikit-learn's ``r2_score``)."""
        predicted = to_numpy(self.predict(X))
        truth = host_reals(to_numpy(y) if not is_host_data(y) else y, "y").astype(np.float64)
        if truth.ndim == 0 or truth.shape[0] != predicted.shape[0] or truth.size != predicted.size:
            raise ValueError(f"y has shape {truth.shape} but X has {predicted.shape[0]} samples; "
                             "y must have one row per sample")
        if not np.all(np.isfinite(truth)):
            raise ValueError("y contains NaN or inf; remove or impute those values first")
        return _r2(truth.reshape(predicted.shape), predicted,
                   checked_sample_weight(sample_weight, predicted.shape[0]))


def _r2(truth: np.ndarray, predicted: np.ndarray, weights: np.ndarray | None = None) -> float:
    """R^2 of ``predicted`` against ``truth`` (host arrays of one shape), averaged over
    outputs; ``weights`` weight each sample (row), as in scikit-learn's ``r2_score``."""
    w = np.ones(truth.shape[0]) if weights is None else weights
    w = w.reshape((-1,) + (1,) * (truth.ndim - 1))
    residual = (w * (truth - predicted) ** 2).sum(axis=0)
    total = (w * (truth - np.average(truth, axis=0, weights=w.ravel())) ** 2).sum(axis=0)
    r2 = np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), 0.0)
    return float(np.mean(r2))
