"""``X`` beyond plain arrays: SciPy sparse matrices, and tables whose columns have names."""

from __future__ import annotations

import numbers
import sys
import warnings
from typing import Any

import numpy as np

from ..backend import is_host_data, to_numpy
from ..seeding import host_rng


def densified(X: Any, estimator: str) -> Any:
    """A SciPy sparse ``X`` as a dense NumPy array; any other ``X`` as it is.

    The network's products are dense, so a sparse ``X`` takes its dense size in memory
    (``n_samples * n_features`` times 8 bytes in float64, 4 in float32), however few of its
    entries are stored. Other sparse formats are refused, naming the conversion.
    """
    sparse = sys.modules.get("scipy.sparse")  # imported wherever a SciPy sparse X exists
    if sparse is not None and sparse.issparse(X):
        return X.toarray()
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError(f"{estimator} takes SciPy sparse matrices but not {type(X).__name__}; "
                        "convert X with X.toarray()")
    return X


def checked_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """``sample_weight`` as scikit-learn takes it: None, a number for every sample, or one
    finite weight >= 0 per sample (not all 0); a float64 host array, or None."""
    if sample_weight is None:
        return None
    host = np.asarray(sample_weight) if is_host_data(sample_weight) else to_numpy(sample_weight)
    if host.ndim == 0:
        host = np.full(n_samples, host)
    if host.ndim != 1 or host.shape[0] != n_samples or host.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must be a number or 1-D with one number per sample "
                         f"({n_samples}), got shape {host.shape} dtype {host.dtype}")
    host = host.astype(np.float64)
    if not np.all(np.isfinite(host)) or np.any(host < 0):
        raise ValueError("sample_weight must hold finite weights >= 0; give a sample you want "
                         "to leave out weight 0")
    if not host.sum() > 0:
        raise ValueError("sample_weight is all zero: at least one sample needs a weight > 0")
    return host


def column_names(X: Any) -> np.ndarray | None:
    """scikit-learn's ``feature_names_in_`` for ``X``: its string ``columns`` (pandas), else None."""
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    names = np.asarray(list(columns), dtype=object)
    kinds = sorted({type(name).__name__ for name in names})
    if len(kinds) > 1 and "str" in kinds:
        raise TypeError("Feature names are only supported if all input features have string "
                        f"names, but your input has {kinds} as feature name / column name types; "
                        "convert them all to strings, e.g. X.columns = X.columns.astype(str)")
    return names if kinds == ["str"] else None


def check_feature_names(estimator: Any, X: Any, reset: bool) -> None:
    """Record ``X``'s column names (``reset``), or compare them with those of the fit."""
    names = column_names(X)
    if reset:
        if names is not None:
            estimator.feature_names_in_ = names
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    kind = type(estimator).__name__
    if fitted is None and names is not None:
        warnings.warn(f"X has feature names, but {kind} was fitted without feature names",
                      UserWarning, stacklevel=4)
    elif fitted is not None and names is None:
        warnings.warn(f"X does not have valid feature names, but {kind} was fitted with feature "
                      "names", UserWarning, stacklevel=4)
    elif fitted is not None and (len(fitted) != len(names) or np.any(fitted != names)):
        unseen = [name for name in names if name not in set(fitted)]
        missing = [name for name in fitted if name not in set(names)]
        raise ValueError("The feature names should match those that were passed during fit; "
                         f"unseen at fit time: {unseen}, seen at fit time, yet now missing: "
                         f"{missing} (same names in another order count as different)")


def check_n_features(estimator: Any, n_features: int, reset: bool) -> None:
    """Record ``X``'s feature count (``reset``), or compare it with that of the fit."""
    if reset:
        estimator.n_features_in_ = n_features
    elif n_features != estimator.n_features_in_:
        raise ValueError(f"X has {n_features} features, but {type(estimator).__name__} is "
                         f"expecting {estimator.n_features_in_} features as input.")


def call_seed(random_state: Any, epochs_done: int) -> int:
    """The seed of one fit call from scikit-learn's ``random_state``: an int moves on with
    the epochs done (each partial_fit shuffles differently), a RandomState draws one, None
    fresh entropy."""
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31))
    if random_state is None:
        return int(host_rng(None).randint(2**31))
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise ValueError(f"random_state must be None, an int or a numpy RandomState, "
                         f"got {random_state!r}")
    return (int(random_state) + epochs_done) % 2**32
