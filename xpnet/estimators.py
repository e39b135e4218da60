"""scikit-learn-compatible estimators: ``MLPClassifier`` and ``MLPRegressor``.

They take data the scikit-learn way, ``X`` shaped ``(n_samples, n_features)``,
and train through :func:`xpnet.fit` (the same loop as the functional API) on the
network layout ``(n_features, n_samples)``. Everything follows ``X``: a model
fitted on CuPy arrays keeps its parameters on CuPy and predicts CuPy arrays;
``backend=`` only decides where host data (lists, NumPy) goes.
"""

from __future__ import annotations

import numbers
import os
import pathlib
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from .backend import (asarray, backend_name, default_int_dtype, dtype_name, is_host_data,
                      namespace_of, resolve_backend, to_numpy)
from .errors import ModelFileError, XpnetError
from .estimator_base import (BaseEstimator, ClassifierMixin, DataConversionWarning, NotFittedBase,
                             RegressorMixin)
from .io import read_network, write_network
from .parameters import layer_dims_of
from .network import forward_prop
from .seeding import host_rng
from .training import SGD, Adam, Constant, History, InverseScaling, Optimizer
from .training import fit as fit_network
from .validation import (check_count, check_finite, check_fraction, check_non_negative,
                         check_positive, working_dtype)

Array = Any

# scikit-learn's activation names, and xpnet's own.
_ACTIVATION_NAMES = {"logistic": "sigmoid", "sigmoid": "sigmoid", "relu": "relu", "tanh": "tanh",
                     "identity": "identity", "leaky_relu": "leaky_relu"}


class NotFittedError(XpnetError, NotFittedBase):
    """An estimator was used before ``fit``."""


class _MLPBase(BaseEstimator):
    """What the classifier and the regressor share: parameters, data checks, training."""

    _output: str  # the output activation for the targets seen (set by _encode_targets)

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: str = "relu", *,
                 solver: str = "adam", alpha: float = 1e-4, batch_size: int | str = "auto",
                 learning_rate: str = "constant", learning_rate_init: float = 1e-3,
                 power_t: float = 0.5, max_iter: int = 200, shuffle: bool = True,
                 random_state: Any = None, tol: float = 1e-4, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, n_iter_no_change: int = 10, backend: Any = "auto",
                 dtype: str | None = None, verbose: int = 0) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.backend = backend
        self.dtype = dtype
        self.verbose = verbose

    # -- training -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> _MLPBase:
        """Train from scratch on ``X`` ``(n_samples, n_features)`` and targets ``y``."""
        return self._train(X, y, reset=True, incremental=False)

    def _train(self, X: Any, y: Any, *, reset: bool, incremental: bool, classes: Any = None) -> _MLPBase:
        """Fit (``incremental=False``) or run one epoch; ``reset`` starts a new model.

        Nothing is lost on failure: a fit that raises leaves the estimator as it was.
        """
        before = dict(self.__dict__)
        try:
            return self._train_or_raise(X, y, reset=reset, incremental=incremental, classes=classes)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _train_or_raise(self, X, y, *, reset, incremental, classes):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        xp = self._namespace(X, reset)
        Xt = self._network_input(X, xp, reset)
        Y = self._encode_targets(y, Xt.shape[1], xp, Xt.dtype, reset, classes)
        if reset:
            self.params_, self.optimizer_ = None, self._optimizer()
            self.loss_curve_: list[float] = []
        layer_dims = [Xt.shape[0], *self._hidden_sizes(), Y.shape[0]]
        params, history = fit_network(Xt, Y, layer_dims, params=self.params_, **self._fit_options(
            Xt.shape[1], incremental))
        self.params_, self.history_ = params, history
        self.loss_curve_ = self.loss_curve_ + history.loss
        self.n_iter_ = len(self.loss_curve_)
        self.n_layers_ = len(layer_dims)
        self.out_activation_ = self._output
        return self

    def _fit_options(self, n_samples: int, incremental: bool) -> dict[str, Any]:
        hidden = self._hidden_activation()
        done = self.n_iter_ if incremental and hasattr(self, "n_iter_") else 0
        options = dict(
            epochs=1 if incremental else check_count(self.max_iter, "max_iter", minimum=1),
            lr=check_positive(self.learning_rate_init, "learning_rate_init"),
            batch_size=self._batch_size(n_samples), shuffle=_check_flag(self.shuffle, "shuffle"),
            optimizer=self.optimizer_, schedule=self._schedule(),
            weight_decay=check_non_negative(self.alpha, "alpha"), hidden=hidden,
            output=self._output, seed=self._seed(done),
            scale="he" if hidden in ("relu", "leaky_relu") else "xavier",
            initial_epoch=done, verbose=self.verbose)
        if not incremental:
            # As in scikit-learn: stop when the monitored loss stalls for n_iter_no_change epochs.
            options.update(early_stopping=check_count(self.n_iter_no_change, "n_iter_no_change", 1),
                           min_delta=check_non_negative(self.tol, "tol"))
            if _check_flag(self.early_stopping, "early_stopping"):
                options["validation_split"] = self._validation_fraction(n_samples)
        return options

    def _validation_fraction(self, n_samples: int) -> float:
        fraction = check_fraction(self.validation_fraction, "validation_fraction", allow_zero=False)
        n_val = int(round(fraction * n_samples))  # the split fit makes
        if not 1 <= n_val < n_samples:
            raise ValueError(f"validation_fraction={fraction} of {n_samples} samples holds out "
                             f"{n_val} for early stopping, which needs at least one sample on each "
                             "side; use more data, another validation_fraction or early_stopping=False")
        return fraction

    def _optimizer(self) -> Optimizer:
        if self.solver == "adam":
            return Adam(check_fraction(self.beta_1, "beta_1"), check_fraction(self.beta_2, "beta_2"),
                        self.epsilon)
        if self.solver == "sgd":
            momentum = self.momentum
            if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) \
                    or not 0 <= momentum <= 1:
                raise ValueError(f"momentum must be a number in [0, 1], got {momentum!r}")
            nesterov = _check_flag(self.nesterovs_momentum, "nesterovs_momentum")
            return SGD(float(momentum), nesterov=nesterov and momentum > 0)
        raise ValueError(f"solver must be 'adam' or 'sgd', got {self.solver!r}")

    def _schedule(self):
        if self.learning_rate == "constant":
            return Constant()
        if self.learning_rate == "invscaling":
            return InverseScaling(self.power_t)
        raise ValueError(f"learning_rate must be 'constant' or 'invscaling', got {self.learning_rate!r}")

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        try:
            sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        except TypeError:
            sizes = [sizes]  # refused below, with the value given
        if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0 for n in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive ints, got {self.hidden_layer_sizes!r}")
        return [int(n) for n in sizes]

    def _hidden_activation(self) -> str:
        if self.activation not in _ACTIVATION_NAMES:
            raise ValueError(f"activation must be one of {', '.join(_ACTIVATION_NAMES)}, "
                             f"got {self.activation!r}")
        return _ACTIVATION_NAMES[self.activation]

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        return check_count(self.batch_size, "batch_size", minimum=1)

    def _seed(self, epochs_done: int) -> int:
        """This call's seed; partial_fit calls move it on, so each epoch shuffles differently."""
        if isinstance(self.random_state, np.random.RandomState):
            return int(self.random_state.randint(2**31))
        if self.random_state is None:
            return int(host_rng(None).randint(2**31))
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, numbers.Integral):
            raise ValueError(f"random_state must be None, an int or a numpy RandomState, "
                             f"got {self.random_state!r}")
        return (int(self.random_state) + epochs_done) % 2**32

    # -- data -----------------------------------------------------------------------------
    def _namespace(self, X: Any, reset: bool) -> Any:
        if not reset and hasattr(self, "params_"):
            return namespace_of(W1=self.params_["W1"])
        return resolve_backend(self.backend) if is_host_data(X) else namespace_of(X=X)

    def _network_input(self, X: Any, xp: Any, reset: bool) -> Array:
        """``X`` checked and put on ``xp`` in the network layout ``(n_features, n_samples)``."""
        if hasattr(X, "toarray") or hasattr(X, "tocsr"):
            raise TypeError(f"{type(self).__name__} does not support sparse input; "
                            "convert it with X.toarray()")
        X = _host_reals(X, "X") if is_host_data(X) else _device_reals(X, "X")
        if X.ndim != 2:
            raise ValueError(f"Expected 2D array, got {X.ndim}D array instead; X must be shaped "
                             "(n_samples, n_features). Reshape your data either using "
                             "X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a "
                             "single sample")
        n_samples, n_features = X.shape
        for count, what in ((n_samples, "sample"), (n_features, "feature")):
            if count == 0:
                raise ValueError(f"Found array with 0 {what}(s) (shape={tuple(X.shape)}) while a "
                                 "minimum of 1 is required.")
        self._check_n_features(n_features, reset)
        # A new model computes in the requested dtype, else in the data's float32/float64;
        # a fitted one in the dtype of its parameters.
        dtype = working_dtype(xp, X.dtype, self.dtype) if reset else self.params_["W1"].dtype
        # The network layout is the transposed view: no copy, and fit's mini-batches
        # come from the row-major samples as they are.
        with np.errstate(over="ignore"):  # values beyond the dtype's range: reported just below
            Xt = asarray(X, xp, dtype).T if is_host_data(X) else xp.astype(X, dtype, copy=False).T
        _check_finite_cast(Xt, X, "X")
        return Xt

    def _check_n_features(self, n_features: int, reset: bool) -> None:
        if reset:
            self.n_features_in_ = n_features
        elif n_features != self.n_features_in_:
            raise ValueError(f"X has {n_features} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet; call "
                                 "fit with appropriate arguments before using it")

    def _network_output(self, X: Any) -> Array:
        self._check_fitted()
        xp = namespace_of(W1=self.params_["W1"])
        if not is_host_data(X) and namespace_of(X=X) is not xp:
            raise TypeError(f"this model was fitted on {backend_name(xp)} but X is a "
                            f"{backend_name(namespace_of(X=X))} array; move X with "
                            f"xpnet.asarray(X, backend='{backend_name(xp)}')")
        Xt = self._network_input(X, xp, reset=False)
        return forward_prop(Xt, self.params_, hidden=self._hidden_activation(),
                            output=self.out_activation_)[0]

    def _encode_targets(self, y: Any, n_samples: int, xp: Any, dtype: Any, reset: bool,
                        classes: Any) -> Array:
        raise NotImplementedError

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> pathlib.Path:
        """Save the fitted model to one file (see :func:`xpnet.load`); returns the path.

        The file holds the parameters, the hyper-parameters and what ``predict``
        needs; the optimizer's state is not kept, so ``partial_fit`` after loading
        starts its optimizer afresh.
        """
        self._check_fitted()
        settings = {name: _plain(value) for name, value in self.get_params().items()}
        if not isinstance(settings["backend"], str):
            settings["backend"] = backend_name(settings["backend"])
        if not (settings["random_state"] is None or isinstance(settings["random_state"], int)):
            settings["random_state"] = None  # a RandomState object is not plain data
        if settings["dtype"] is not None:
            settings["dtype"] = dtype_name(settings["dtype"])
        return write_network(path, self.params_, type(self).__name__,
                             {"settings": settings, "fitted": self._fitted_state()})

    def _fitted_state(self) -> dict[str, Any]:
        return {"n_features_in_": self.n_features_in_, "loss_curve_": self.loss_curve_,
                "n_iter_": self.n_iter_, "n_layers_": self.n_layers_,
                "out_activation_": self.out_activation_, "history_": self.history_.as_dict()}

    def _restore(self, fitted: Mapping[str, Any], params: dict[str, Array]) -> None:
        for name in ("n_features_in_", "loss_curve_", "n_iter_", "n_layers_", "out_activation_"):
            setattr(self, name, fitted[name])
        self._output = fitted["out_activation_"]
        self.history_ = History(**fitted["history_"])
        self.params_, self.optimizer_ = params, self._optimizer()


class MLPClassifier(ClassifierMixin, _MLPBase):
    """A multi-layer perceptron classifier with scikit-learn's interface.

    Binary problems use one sigmoid output with binary cross-entropy, multi-class
    ones a softmax output with categorical cross-entropy. Labels may be ints or
    strings. The parameters mirror scikit-learn's ``MLPClassifier`` (``solver`` is
    ``"adam"`` or ``"sgd"``; ``alpha`` is the L2 penalty ``alpha/2 * sum(W**2)`` on
    the mean loss; ``learning_rate`` is ``"constant"`` or ``"invscaling"``, counted
    in epochs), plus ``backend`` (``"auto"``: a GPU when usable) and ``dtype``
    (``None``: float64 where the backend has it).

    Fitted attributes: ``classes_``, ``n_features_in_``, ``params_`` (the network's
    ``W1, b1, ...``), ``loss_curve_``, ``n_iter_``, ``history_``, ``out_activation_``.
    """

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch over ``X, y``; the first call must list every class in ``classes``."""
        first = not hasattr(self, "params_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._train(X, y, reset=first, incremental=True, classes=classes)

    def _encode_targets(self, y, n_samples, xp, dtype, reset, classes):
        y = self._labels(y, n_samples)
        if reset:
            found = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(found) < 2:
                raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes in y; "
                                 f"got 1 class: {found.tolist()[0]!r}")
            self.classes_ = found
            self._output = "sigmoid" if len(found) == 2 else "softmax"
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"y contains labels not seen in classes_ {self.classes_.tolist()}: "
                             f"{unknown.tolist()}")
        indices = np.searchsorted(self.classes_, y)
        if self._output == "sigmoid":
            return asarray(indices[np.newaxis, :], xp, dtype)
        return asarray(np.eye(len(self.classes_))[:, indices], xp, dtype)

    def _labels(self, y: Any, n_samples: int) -> np.ndarray:
        y = to_numpy(y) if not is_host_data(y) else np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected; "
                          "use y.ravel()", DataConversionWarning, stacklevel=4)
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
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D (one label per sample), got shape {y.shape}; "
                             "multi-label targets are not supported")
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
        return {**super()._fitted_state(), "classes_": self.classes_.tolist(),
                "classes_dtype": self.classes_.dtype.str}

    def _restore(self, fitted, params):
        super()._restore(fitted, params)
        self.classes_ = np.asarray(fitted["classes_"], dtype=np.dtype(fitted["classes_dtype"]))

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities, ``(n_samples, n_classes)``, on the model's backend."""
        AL = self._network_output(X)
        xp = namespace_of(AL=AL)
        if self._output == "sigmoid":
            return xp.stack([1 - AL[0, :], AL[0, :]], axis=1)
        return xp.asarray(AL.T, copy=True)

    def predict(self, X: Any) -> Array:
        """Predicted labels, on the model's backend (NumPy for string labels)."""
        AL = self._network_output(X)
        xp = namespace_of(AL=AL)
        indices = xp.astype(AL[0, :] > 0.5, default_int_dtype(xp)) if self._output == "sigmoid" \
            else xp.argmax(AL, axis=0)
        if self.classes_.dtype.kind in "biuf":
            return xp.take(asarray(self.classes_, xp), indices, axis=0)
        return self.classes_[to_numpy(indices)]

    def score(self, X: Any, y: Any) -> float:
        """Mean accuracy of ``predict(X)`` against ``y``."""
        predicted = to_numpy(self.predict(X))
        return float(np.mean(predicted == self._labels(y, predicted.shape[0])))


class MLPRegressor(RegressorMixin, _MLPBase):
    """A multi-layer perceptron regressor with scikit-learn's interface.

    Identity output, squared-error loss; ``y`` may be 1-D or ``(n_samples, n_outputs)``.
    Parameters and fitted attributes as in :class:`MLPClassifier` (without ``classes_``).
    """

    _output = "identity"

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch over ``X, y`` (the first call starts a new model)."""
        return self._train(X, y, reset=not hasattr(self, "params_"), incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _encode_targets(self, y, n_samples, xp, dtype, reset, classes):
        y = _host_reals(y, "y") if is_host_data(y) else _device_reals(y, "y")
        if y.ndim not in (1, 2) or y.shape[0] != n_samples:
            raise ValueError(f"y must have one row per sample ({n_samples}), got shape {tuple(y.shape)}")
        if reset:
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
            self._y_is_1d = y.ndim == 1
        with np.errstate(over="ignore"):  # values beyond the dtype's range: reported just below
            Y = asarray(y, xp, dtype)
        _check_finite_cast(Y, y, "y")
        return xp.reshape(Y, (1, n_samples)) if Y.ndim == 1 else xp.asarray(Y.T, copy=True)

    def _fitted_state(self):
        return {**super()._fitted_state(), "n_outputs_": self.n_outputs_, "y_is_1d": self._y_is_1d}

    def _restore(self, fitted, params):
        super()._restore(fitted, params)
        self.n_outputs_, self._y_is_1d = fitted["n_outputs_"], fitted["y_is_1d"]

    def predict(self, X: Any) -> Array:
        """Predicted values, ``(n_samples,)`` or ``(n_samples, n_outputs)``, on the model's backend."""
        AL = self._network_output(X)
        xp = namespace_of(AL=AL)
        return AL[0, :] if self._y_is_1d else xp.asarray(AL.T, copy=True)

    def score(self, X: Any, y: Any) -> float:
        """The coefficient of determination R^2 (averaged over outputs)."""
        predicted = to_numpy(self.predict(X))
        truth = _host_reals(to_numpy(y) if not is_host_data(y) else y, "y").astype(np.float64)
        if truth.ndim == 0 or truth.shape[0] != predicted.shape[0] or truth.size != predicted.size:
            raise ValueError(f"y has shape {truth.shape} but X has {predicted.shape[0]} samples; "
                             "y must have one row per sample")
        if not np.all(np.isfinite(truth)):
            raise ValueError("y contains NaN or inf; remove or impute those values first")
        truth = truth.reshape(predicted.shape)
        residual = ((truth - predicted) ** 2).sum(axis=0)
        total = ((truth - truth.mean(axis=0)) ** 2).sum(axis=0)
        r2 = np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), 0.0)
        return float(np.mean(r2))


def _check_flag(value: Any, argument: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{argument} must be True or False, got {value!r}")
    return bool(value)


def _host_reals(data: Any, name: str) -> np.ndarray:
    """Host data as a NumPy array of real numbers: float32/float64 kept, anything else float64."""
    try:
        array = np.asarray(data)
        if not np.iscomplexobj(array) and array.dtype not in (np.float32, np.float64):
            array = array.astype(np.float64)
    except (TypeError, ValueError) as exc:
        # The type is kept: scikit-learn's checks expect NumPy's TypeError for objects.
        raise type(exc)(f"{name} is not a rectangular array of real numbers ({exc}); pass an "
                        "array, or equal-length lists, of numbers") from exc
    if np.iscomplexobj(array):
        raise ValueError(f"Complex data not supported: {name} has dtype {array.dtype}; pass real "
                         f"numbers, e.g. the real part or the magnitude of {name}")
    return array


def _device_reals(data: Array, name: str) -> Array:
    """Another library's array, refused unless it holds real numbers (bools, ints, floats)."""
    xp = namespace_of(**{name: data})
    if not xp.isdtype(data.dtype, ("bool", "integral", "real floating")):
        raise ValueError(f"Complex data not supported: {name} has dtype {data.dtype}; pass real "
                         f"numbers, e.g. the real part or the magnitude of {name}")
    return data


def _check_finite_cast(converted: Array, original: Array, name: str) -> None:
    """``converted`` (``original`` in the model's dtype) is finite; says why when it is not."""
    xp = namespace_of(**{name: converted})
    if bool(xp.all(xp.isfinite(converted))):
        return
    source = namespace_of(**{name: original})
    if source.isdtype(original.dtype, "real floating") and bool(source.all(source.isfinite(original))):
        raise ValueError(f"{name} holds values beyond the range of {dtype_name(converted.dtype)}, "
                         f"the model's dtype; scale {name} or use dtype='float64'")
    check_finite(converted, name)


def _plain(value: Any) -> Any:
    """NumPy numbers and arrays (say from a parameter grid) as plain Python data for the header."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


ESTIMATORS = {cls.__name__: cls for cls in (MLPClassifier, MLPRegressor)}


def load(path: str | os.PathLike, backend: Any = None) -> MLPClassifier | MLPRegressor:
    """A fitted estimator saved with ``est.save(path)``; it predicts what the saved one did.

    ``backend`` decides where the parameters go (``None``: the estimator's own
    ``backend`` setting, ``"auto"`` by default). Raises ``FileNotFoundError`` or
    :class:`~xpnet.errors.ModelFileError` (naming the file) for a missing, damaged,
    foreign or newer-version file.
    """
    if backend is not None:
        resolve_backend(backend)  # a bad backend argument is the caller's error, not the file's
    params, kind, metadata = read_network(path, tuple(ESTIMATORS))
    try:
        settings = dict(metadata["settings"])
        if isinstance(settings.get("hidden_layer_sizes"), list):  # JSON has no tuples
            settings["hidden_layer_sizes"] = tuple(settings["hidden_layer_sizes"])
        estimator = ESTIMATORS[kind](**settings)
        estimator._hidden_activation()
        dims = layer_dims_of(params)
        if estimator._hidden_sizes() != dims[1:-1]:
            raise ValueError(f"hidden_layer_sizes {estimator.hidden_layer_sizes!r} do not match "
                             f"the network's layer sizes {dims}")
        if backend is not None:
            estimator.set_params(backend=backend)
        xp = resolve_backend(estimator.backend)
        estimator._restore(metadata["fitted"], {k: asarray(v, xp) for k, v in params.items()})
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: its {kind} settings are incomplete or invalid "
                             f"({str(exc)[:300]}); save the estimator again") from exc
    return estimator
