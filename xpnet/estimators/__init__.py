"""scikit-learn-compatible estimators: ``MLPClassifier`` and ``MLPRegressor``.

They take data the scikit-learn way, ``X`` shaped ``(n_samples, n_features)``,
and train through :func:`xpnet.fit` (the same loop as the functional API) on the
network layout ``(n_features, n_samples)``. Everything follows ``X``: a model
fitted on CuPy arrays keeps its parameters on CuPy and predicts CuPy arrays;
``backend=`` only decides where host data (lists, NumPy) goes. ``est.save(path)``
writes a fitted estimator to one file and :func:`load` reads it back.

Modules: ``mlp`` (what both share), ``classifier``, ``regressor``, ``stopping`` (scikit-learn's
solvers and rules after each epoch), ``reals`` (data checked into real numbers), ``files``
(saving and loading), ``shares`` (a model trained with ``parallel="tensor"``, each rank a
share), ``lbfgs``, ``inputs``, ``sklearn_base`` (scikit-learn's base classes, or a fallback).
"""

from .classifier import MLPClassifier
from .files import load
from .mlp import NotFittedError
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "NotFittedError", "load"]
