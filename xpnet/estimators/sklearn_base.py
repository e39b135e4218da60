"""The base classes of xpnet's scikit-learn-style estimators.

With scikit-learn installed, the estimators derive from its ``BaseEstimator`` and
mixins, so ``clone``, ``Pipeline``, ``GridSearchCV`` and its estimator tags work
as for any scikit-learn model. Without it, a minimal ``get_params``/``set_params``
keeps the same interface, so xpnet itself never needs scikit-learn.
"""

from __future__ import annotations

import inspect
from typing import Any

try:  # scikit-learn is optional
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
    from sklearn.exceptions import NotFittedError as NotFittedBase
except ImportError:
    class NotFittedBase(ValueError, AttributeError):  # type: ignore[no-redef]
        """An estimator was used before ``fit`` (scikit-learn's class, when it is installed)."""

    class BaseEstimator:  # type: ignore[no-redef]
        """``get_params``/``set_params`` over the ``__init__`` arguments, as in scikit-learn."""

        @classmethod
        def _get_param_names(cls) -> list[str]:
            signature = inspect.signature(cls.__init__)
            return sorted(name for name, p in signature.parameters.items()
                          if name != "self" and p.kind != p.VAR_KEYWORD)

        def get_params(self, deep: bool = True) -> dict[str, Any]:
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params: Any) -> BaseEstimator:
            valid = self._get_param_names()
            for name, value in params.items():
                if name not in valid:
                    raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}; "
                                     f"valid parameters are {', '.join(valid)}")
                setattr(self, name, value)
            return self

        def __repr__(self) -> str:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class ClassifierMixin:  # type: ignore[no-redef]
        _estimator_type = "classifier"

    class RegressorMixin:  # type: ignore[no-redef]
        _estimator_type = "regressor"

    class ConvergenceWarning(UserWarning):  # type: ignore[no-redef]
        """Training ended at ``max_iter`` before the ``tol``/``n_iter_no_change`` rule stopped it."""

    class DataConversionWarning(UserWarning):  # type: ignore[no-redef]
        """A column-vector ``y`` was passed where a 1-D array was expected."""

__all__ = ["BaseEstimator", "ClassifierMixin", "ConvergenceWarning", "DataConversionWarning",
           "NotFittedBase", "RegressorMixin"]
