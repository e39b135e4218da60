"""What ``MLPClassifier`` and ``MLPRegressor`` share: ``_MLPBase``.

It turns the hyper-parameters into :func:`xpnet.fit`'s options, converts and checks
``X`` (with the checks of ``reals.py``, which ``y`` shares) into the network layout
``(n_features, n_samples)``, and runs the network forward for ``predict``.
"""

from __future__ import annotations

import copy
import numbers
import os
import pathlib
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from ..backend import asarray, backend_name, is_host_data, namespace_of, resolve_backend, wants_auto
from ..distributed import as_transport
from ..errors import XpnetError
from ..network import forward_prop
from ..parameters import layer_dims_of, restore_params
from ..training import Constant, History
from ..training import fit as fit_network
from ..training.ranks import check_parallel
from ..training.tensor import sharded_forward_prop
from ..validation import (check_count, check_finite_cast, check_flag, check_non_negative,
                          check_positive, working_dtype)
from . import files, lbfgs, shares
from .inputs import (call_seed, check_feature_names, check_n_features, checked_sample_weight,
                     densified)
from .reals import device_reals, follow_dtype, host_reals
from .sklearn_base import BaseEstimator, ConvergenceWarning, NotFittedBase
from .stopping import (EpochRule, SklearnRate, check_patience, penalty_scale, sklearn_optimizer,
                       split_validation, start_bookkeeping, verbosity)

Array = Any

# scikit-learn's name for the sigmoid, then xpnet's own hidden-layer activations.
# (in the table's order, as scikit-learn's error lists them)
_ACTIVATION_NAMES = {"logistic": "sigmoid", **{name: name for name in ACTIVATIONS
                                               if name in HIDDEN_ACTIVATIONS}}


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
                 dtype: str | None = None, verbose: int = 0, warm_start: bool = False,
                 max_fun: int = 15000, comm: Any = None, parallel: str = "data") -> None:
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
        self.warm_start = warm_start
        self.max_fun = max_fun
        self.comm = comm
        self.parallel = parallel

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # SciPy sparse X is made dense (inputs.py)
        return tags

    # -- training -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _MLPBase:
        """Train on ``X`` ``(n_samples, n_features)`` and targets ``y``: from scratch, or with
        ``warm_start=True`` from the weights of the previous fit. ``sample_weight`` (one
        weight >= 0 per sample) weights each sample's loss, as scikit-learn's."""
        warm = check_flag(self.warm_start, "warm_start") and hasattr(self, "params_")
        if warm:
            self._check_warm_start(y)
        return self._train(X, y, reset=not warm, incremental=False, sample_weight=sample_weight)

    def _check_warm_start(self, y: Any) -> None:
        """Raise when the network or ``y`` cannot continue the previous fit (the classifier
        checks the classes too)."""
        trained = None if self._holds_shares else layer_dims_of(self.params_)[1:-1]
        if trained is not None and self._hidden_sizes() != trained:
            raise ValueError(f"warm_start=True continues the previous fit's network, whose hidden "
                             f"layers are {trained}, but hidden_layer_sizes asks for "
                             f"{self._hidden_sizes()}; set warm_start=False for a new network")

    @property
    def coefs_(self) -> list[Array]:
        """scikit-learn's weights: ``coefs_[i]`` is ``W{i+1}.T``, shaped ``(n_in, n_out)``, a view
        of ``params_`` on the model's backend."""
        return [self._fitted_params()[f"W{l}"].T for l in range(1, self.n_layers_)]

    @property
    def intercepts_(self) -> list[Array]:
        """scikit-learn's biases: ``intercepts_[i]`` is ``b{i+1}`` as a vector ``(n_out,)``."""
        params = self._fitted_params()
        xp = namespace_of(b1=params["b1"])
        return [xp.reshape(params[f"b{l}"], (-1,)) for l in range(1, self.n_layers_)]

    def _fitted_params(self) -> dict[str, Array]:
        if not hasattr(self, "params_"):
            raise AttributeError(f"This {type(self).__name__} instance is not fitted yet")
        return self.params_

    def _train(self, X: Any, y: Any, *, reset: bool, incremental: bool, classes: Any = None,
               sample_weight: Any = None) -> _MLPBase:
        """Fit (``incremental=False``) or run one epoch; ``reset`` starts a new model.

        Nothing is lost on failure: a fit that raises leaves the estimator as it was.
        """
        before = dict(self.__dict__)
        if not reset and getattr(self, "params_", None) is not None:
            # fit updates the weights, and the optimizer its state, in place: train copies, so
            # that a failure leaves the fitted ones untouched (one more copy of the weights).
            self.params_ = {key: namespace_of(W=value).asarray(value, copy=True)
                            for key, value in self.params_.items()}
            self.optimizer_ = copy.deepcopy(getattr(self, "optimizer_", None))
        try:
            return self._train_or_raise(X, y, reset, incremental, classes, sample_weight)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _train_or_raise(self, X, y, reset, incremental, classes, sample_weight):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        if incremental and check_flag(self.early_stopping, "early_stopping"):
            raise ValueError("partial_fit does not support early_stopping=True")
        parallel = check_parallel(self.parallel, self.comm)
        if parallel == "grid":  # its shares and groups would reach predict, save and lbfgs
            raise NotImplementedError("the estimators train with parallel='data' or 'tensor', "
                                      "not on a grid of both; train a grid with xpnet.fit(..., "
                                      "parallel=('data', 'tensor'), mesh=(n_data, n_tensor))")
        xp = self._namespace(X, reset)
        if not reset:  # a dtype set since the last fit: the model continues in it
            follow_dtype(self, xp)
        if self.solver == "lbfgs":
            lbfgs.check_backend(xp, self.comm)
        Xt = self._network_input(X, xp, reset)
        Y = self._encode_targets(y, Xt.shape[1], xp, Xt.dtype, reset, classes)
        weights = checked_sample_weight(sample_weight, Xt.shape[1])
        if reset:
            self.params_, self._shares = None, False
            start_bookkeeping(self)
        else:  # new lists: a fit that raises must leave the old ones as they were
            self.loss_curve_ = list(self.loss_curve_)
            if self.validation_scores_ is not None:
                self.validation_scores_ = list(self.validation_scores_)
        if reset or not incremental:  # scikit-learn: a new optimizer for every fit
            self.optimizer_ = sklearn_optimizer(self)
        shares.hold_shares(self, parallel == "tensor")
        if not incremental:
            self.n_iter_ = 0
        if self.solver == "lbfgs":  # the whole set at once; early_stopping does not apply
            lbfgs.fit_lbfgs(self, Xt, Y, weights, [Xt.shape[0], *self._hidden_sizes(), Y.shape[0]],
                            self._seed(0))
            self.n_layers_, self.out_activation_ = len(self.params_) // 2 + 1, self._output
            return self
        Xt, Y, validation, weights, val_weights = self._hold_out(Xt, Y, xp, weights)
        layer_dims = [Xt.shape[0], *self._hidden_sizes(), Y.shape[0]]
        batch_size = self._batch_size(Xt.shape[1])
        rate = SklearnRate(self.learning_rate, check_non_negative(self.power_t, "power_t"), self.t_)
        rule = EpochRule(self, rate, Xt.shape[1], penalty_scale(Xt.shape[1], batch_size, weights),
                         validation, self._validation_score, incremental, val_weights)
        epochs_before = self.n_iter_
        # backend="auto": a new model's host data goes where its work per step runs fastest.
        weigh = reset and is_host_data(X) and wants_auto(self.backend)
        params, history = fit_network(
            Xt, Y, layer_dims, params=self.params_, validation_data=validation, callbacks=[rule],
            sample_weight=weights, backend="auto" if weigh else xp,
            **self._fit_options(batch_size, rate, incremental))
        if rule.best_params is not None:  # early_stopping: the best validation score's weights
            restore_params(params, rule.best_params)
        self.params_, self.history_ = params, history
        self.n_layers_ = len(layer_dims)
        self.out_activation_ = self._output
        if not incremental and not rule.stopped and self.n_iter_ - epochs_before == self.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                          "the optimization hasn't converged yet.", ConvergenceWarning, stacklevel=4)
        return self

    def _hold_out(self, Xt: Array, Y: Array, xp: Any, weights: np.ndarray | None
                  ) -> tuple[Array, Array, Any, Any, Any]:
        """``(X_train, Y_train, (X_val, Y_val) or None, train weights, validation weights)``:
        scikit-learn's validation split when ``early_stopping=True``, stratified for
        single-label classifiers; the sample weights (or None) split alike."""
        if not check_flag(self.early_stopping, "early_stopping"):
            return Xt, Y, None, weights, None
        train, val = split_validation(Xt.shape[1], self.validation_fraction,
                                      self._seed(self.n_iter_), self._strata(Y),
                                      getattr(self, "classes_", None))
        split = (None, None) if weights is None else (weights[train], weights[val])
        train, val = asarray(train, xp), asarray(val, xp)
        return (xp.take(Xt, train, axis=1), xp.take(Y, train, axis=1),
                (xp.take(Xt, val, axis=1), xp.take(Y, val, axis=1)), *split)

    def _strata(self, Y: Array) -> np.ndarray | None:
        """The classes to stratify the validation split by (None: not stratified)."""
        return None

    def _validation_score(self, AL: Array, Y: Array, weights: np.ndarray | None) -> float:
        """scikit-learn's ``score`` of the network's output ``AL`` against targets ``Y``,
        weighted by the validation samples' ``weights`` (None: all alike)."""
        raise NotImplementedError

    def _fit_options(self, batch_size: int, rate: SklearnRate, incremental: bool) -> dict[str, Any]:
        hidden = self._hidden_activation()
        check_non_negative(self.tol, "tol")
        check_patience(self.n_iter_no_change)
        return dict(
            epochs=1 if incremental else check_count(self.max_iter, "max_iter", minimum=1),
            lr=check_positive(self.learning_rate_init, "learning_rate_init"),
            batch_size=batch_size, shuffle=check_flag(self.shuffle, "shuffle"),
            optimizer=self.optimizer_, schedule=rate if self.solver == "sgd" else Constant(),
            # scikit-learn's penalty is alpha/2 * sum(W**2) per batch, divided by the batch's
            # sample count (its weight sum with sample_weight), a short last batch's included.
            weight_decay=check_non_negative(self.alpha, "alpha"), decay_per_sample=True,
            hidden=hidden,
            output=self._output, seed=self._seed(self.n_iter_),
            scale=ACTIVATIONS[hidden].init_scale,
            initial_epoch=self.n_iter_, verbose=verbosity(self.verbose), comm=self.comm,
            parallel=self.parallel)

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
        if self.learning_rate not in ("constant", "invscaling", "adaptive"):
            raise ValueError(f"learning_rate must be 'constant', 'invscaling' or 'adaptive', "
                             f"got {self.learning_rate!r}")
        if self.batch_size == "auto":
            return min(200, n_samples)
        return min(check_count(self.batch_size, "batch_size", minimum=1), n_samples)

    def _seed(self, epochs_done: int) -> int:
        """This call's seed; partial_fit calls move it on, so each epoch shuffles differently.
        With ``comm``, rank 0's: every rank must hold out and shuffle the same samples."""
        seed = call_seed(self.random_state, epochs_done)
        return seed if self.comm is None else as_transport(self.comm).broadcast_value(seed)

    def _verbose_here(self) -> bool:
        """Whether this process prints the verbose lines (with ``comm``, rank 0 alone)."""
        return bool(self.verbose) and (self.comm is None or as_transport(self.comm).rank == 0)

    # -- data -----------------------------------------------------------------------------
    def _namespace(self, X: Any, reset: bool) -> Any:
        if not reset and hasattr(self, "params_"):
            return namespace_of(W1=self.params_["W1"])
        if not is_host_data(X):
            return namespace_of(X=X)
        # "auto" prepares the data on the host; fit then weighs where it trains.
        return resolve_backend("numpy" if wants_auto(self.backend) else self.backend)

    def _network_input(self, X: Any, xp: Any, reset: bool) -> Array:
        """``X`` checked and put on ``xp`` in the network layout ``(n_features, n_samples)``."""
        check_feature_names(self, X, reset)
        X = densified(X, type(self).__name__)  # see inputs.py: a sparse X's dense memory
        X = host_reals(X, "X") if is_host_data(X) else device_reals(X, "X")
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
        check_n_features(self, n_features, reset)
        # A new model computes in the requested dtype, else in the data's float32/float64;
        # a fitted one in the dtype of its parameters.
        dtype = working_dtype(xp, X.dtype, self.dtype) if reset else self.params_["W1"].dtype
        # The network layout is the transposed view: no copy, and fit's mini-batches
        # come from the row-major samples as they are.
        with np.errstate(over="ignore"):  # values beyond the dtype's range: reported just below
            Xt = asarray(X, xp, dtype).T if is_host_data(X) else xp.astype(X, dtype, copy=False).T
        check_finite_cast(Xt, X, "X")
        return Xt

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
        return self.forward(Xt, self.params_)

    def forward(self, Xt: Array, params: dict[str, Array]) -> Array:
        """The network's output for ``Xt`` ``(n_features, n_samples)`` with weights
        ``params``; from every rank's share together when they are shares (every rank
        of ``comm`` must call it then, with the same ``Xt``)."""
        hidden = self._hidden_activation()
        if not self._holds_shares:
            return forward_prop(Xt, params, hidden=hidden, output=self._output)[0]
        return sharded_forward_prop(Xt, params, shares.comm_of(self), hidden=hidden,
                                    output=self._output)

    @property
    def _holds_shares(self) -> bool:
        """Whether ``params_`` is this rank's share of a network (``parallel="tensor"``)."""
        return getattr(self, "_shares", False)

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
        return files.save(self, path) if not self._holds_shares else shares.save(self, path)

    def _fitted_state(self) -> dict[str, Any]:
        """What ``predict`` needs besides the parameters, as plain data for the model file."""
        state = {"n_features_in_": self.n_features_in_, "loss_curve_": self.loss_curve_,
                 "n_iter_": self.n_iter_, "n_layers_": self.n_layers_,
                 "out_activation_": self.out_activation_, "history_": self.history_.as_dict()}
        if hasattr(self, "feature_names_in_"):  # absent otherwise, as in files of earlier versions
            state["feature_names_in_"] = self.feature_names_in_.tolist()
        # loss_ where it is not the last of loss_curve_; else left out, as in earlier files
        if self.loss_ is not None and self.loss_curve_[-1:] != [self.loss_]:
            state["loss_"] = float(self.loss_)
        return state

    def _restore(self, fitted: Mapping[str, Any], params: dict[str, Array]) -> None:
        """The fitted estimator again, from ``_fitted_state()`` and the parameters."""
        for name in ("n_features_in_", "loss_curve_", "n_iter_", "n_layers_", "out_activation_"):
            setattr(self, name, fitted[name])
        self._output = fitted["out_activation_"]
        # In the file only where it is not the last of loss_curve_ (lbfgs's is SciPy's result).
        self.loss_ = fitted.get("loss_", self.loss_curve_[-1] if self.loss_curve_ else None)
        if "feature_names_in_" in fitted:
            self.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
        # The solver's own state is not kept (as the optimizer's): it restarts, as after
        # fit with early_stopping=False, and best_loss_ is the best loss recorded.
        self.t_ = self._no_improvement_count = 0
        self.best_loss_ = min(self.loss_curve_, default=np.inf)
        self.validation_scores_ = self.best_validation_score_ = None
        self.history_ = History(**fitted["history_"])
        self.params_, self.optimizer_, self._shares = params, sklearn_optimizer(self), False

